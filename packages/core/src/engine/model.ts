import type { BackendName, Device, LoadedModel } from '../backend/spi.js';
import type { Releasable } from '../keyspace/keyspace.js';
import type { Lane } from './queue.js';
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
  /**
   * Whether requests may be merged into one batch: BATCHSIZE > 0 and no input declares a fixed
   * dimension 0 (mnist.onnx's [1,1,28,28] cannot take two images, so its requests run alone).
   */
  readonly mergeable: boolean;
  private refs = 1;

  constructor(
    readonly meta: ModelMeta,
    readonly blob: Buffer,
    readonly handle: LoadedModel,
    /** The backend's thread lane (its runs per slot), for the run queue. */
    readonly lane: Lane = { name: meta.backend, runsPerSlot: 1 },
  ) {
    this.mergeable = meta.batchSize > 0 && handle.inputs.every((s) => s.shape === undefined || (s.shape.length > 0 && !isFixed(s.shape[0]!)));
  }

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

/** A declared dimension of known size (-1, null-ish and symbolic names are free). */
function isFixed(d: number | string): boolean {
  return typeof d === 'number' && d >= 0;
}
