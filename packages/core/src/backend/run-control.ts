import type { QueuedRun } from './spi.js';

/** A queued run's state in its control record. */
export const RUN_WAITING = 0;
export const RUN_STARTED = 1;
export const RUN_WITHDRAWN = 2;

/**
 * Control records of queued runs (see QueuedRun), in a SharedArrayBuffer that the engine's thread
 * and the runtime's threads (worker threads, a native addon's threads) all read. A record is
 * claimed by the runtime (waiting -> started) just before the run starts, or withdrawn by the
 * engine (waiting -> withdrawn); the compare-and-swap decides which happened, exactly once.
 *
 * Layout for `size` records (native code reads it too): int32 states at byte 0, float64 compute
 * times in microseconds at byte 8 * size, float64 start times (ms since the epoch) at byte 16 * size.
 */
export class RunControl {
  readonly sab: SharedArrayBuffer;
  readonly states: Int32Array;
  readonly micros: Float64Array;
  readonly startedAt: Float64Array;
  private readonly free: number[];

  constructor(readonly size = 1024) {
    this.sab = new SharedArrayBuffer(size * 24);
    this.states = new Int32Array(this.sab, 0, size);
    this.micros = new Float64Array(this.sab, size * 8, size);
    this.startedAt = new Float64Array(this.sab, size * 16, size);
    this.free = Array.from({ length: size }, (_, i) => size - 1 - i);
  }

  /**
   * A record for `q` (its `withdraw` wired to it), or -1 when all are in use: the run then goes
   * without one (it cannot be withdrawn, its deadline still holds).
   */
  acquire(q: QueuedRun): number {
    const cell = this.free.pop();
    if (cell === undefined) return -1;
    Atomics.store(this.states, cell, RUN_WAITING);
    this.micros[cell] = 0;
    this.startedAt[cell] = 0;
    const states = this.states;
    q.withdraw = () => Atomics.compareExchange(states, cell, RUN_WAITING, RUN_WITHDRAWN) === RUN_WAITING;
    return cell;
  }

  /** The run settled: its compute time to `q`, the record back to the pool. */
  release(cell: number, q: QueuedRun): void {
    q.withdraw = undefined;
    if (cell < 0) return;
    if (Atomics.load(this.states, cell) === RUN_STARTED) q.computeUs = Math.round(this.micros[cell]!);
    this.free.push(cell);
  }

  /**
   * The run of `cell` was given up while its runtime still holds it (a MODEL_EXECUTION_TIMEOUT:
   * the retired worker may yet write the record): it never returns to the pool, so no later run
   * reads a time that is not its own. Rare, and bounded: with every record gone, runs go without.
   */
  abandon(cell: number, q: QueuedRun): void {
    q.withdraw = undefined;
    if (cell >= 0) this.abandoned++;
  }

  /** Records given up to runs their runtime still holds (see `abandon`). */
  abandoned = 0;

  /** Whether the run of `cell` is still waiting (neither started nor withdrawn). */
  waiting(cell: number): boolean {
    return cell >= 0 && Atomics.load(this.states, cell) === RUN_WAITING;
  }

  /** Whether the engine withdrew the run of `cell`. */
  withdrawn(cell: number): boolean {
    return cell >= 0 && Atomics.load(this.states, cell) === RUN_WITHDRAWN;
  }
}

/** The runtime's side, just before it starts a run: false when the engine withdrew it. */
export function claimRun(control: { states: Int32Array; startedAt: Float64Array }, cell: number): boolean {
  if (cell < 0) return true;
  if (Atomics.compareExchange(control.states, cell, RUN_WAITING, RUN_STARTED) !== RUN_WAITING) return false;
  control.startedAt[cell] = Date.now();
  return true;
}

/** Views of a RunControl's buffer in another thread. */
export function runControlViews(sab: SharedArrayBuffer, size: number): { states: Int32Array; micros: Float64Array; startedAt: Float64Array } {
  return {
    states: new Int32Array(sab, 0, size),
    micros: new Float64Array(sab, size * 8, size),
    startedAt: new Float64Array(sab, size * 16, size),
  };
}
