import type { Device, LoadedScript } from '../backend/spi.js';
import type { Releasable } from '../keyspace/keyspace.js';
import type { Lane } from './queue.js';
import { RunStats } from './stats.js';

export interface ScriptMeta {
  readonly device: Device;
  readonly tag: Buffer;
  /** Entry points declared with AI.SCRIPTSTORE (empty for the deprecated AI.SCRIPTSET). */
  readonly entryPoints: readonly string[];
}

/** A stored TorchScript script: its source (AI.SCRIPTGET, persistence) and the compiled handle. */
export class Script implements Releasable {
  readonly stats = new RunStats();
  private refs = 1;

  constructor(
    readonly meta: ScriptMeta,
    readonly source: string,
    readonly handle: LoadedScript,
    /** TORCH's thread lane, for the run queue. */
    readonly lane: Lane = { name: 'TORCH', runsPerSlot: 1 },
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
