import type { BackendName, Device, LoadedModel } from '../backend/spi.js';
import type { Releasable } from '../keyspace/keyspace.js';
import { RunStats } from './stats.js';

/** What AI.MODELSTORE was given, besides the blob: all AI.MODELGET META reports. */
export interface ModelMeta {
  readonly backend: BackendName;
  readonly device: Device;
  readonly tag: Buffer;
  readonly batchSize: number;
  readonly minBatchSize: number;
  readonly minBatchTimeout: number;
  /** Input and output names: the user's for TF, the model's own for the others. */
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
}

/**
 * A stored model: metadata, the original bytes (MODELGET BLOB, persistence) and the runtime's
 * handle. Reference-counted so replacing or deleting the key while a run uses it frees the
 * runtime only after that run.
 */
export class Model implements Releasable {
  readonly stats = new RunStats();
  private refs = 1;

  constructor(
    readonly meta: ModelMeta,
    readonly blob: Buffer,
    readonly handle: LoadedModel,
  ) {}

  retain(): this {
    this.refs++;
    return this;
  }

  release(): void {
    if (--this.refs === 0) {
      Promise.resolve()
        .then(() => this.handle.dispose())
        .catch(() => undefined);
    }
  }
}
