import { E, RespaiError, clientError } from '../errors.js';
import { RunNotStarted, type QueuedRun } from '../backend/spi.js';
import { concat, split, type Tensor } from '../tensor/index.js';
import type { Model } from './model.js';
import type { RunObserver } from './observe.js';
import type { RunStats } from './stats.js';

/** Thrown into a job that waited in its queue past its deadline. */
export class TimedOut extends Error {
  constructor() {
    super(E.timedOut);
  }
}

/** Thrown into a job whose caller went away before it ran. */
export class Cancelled extends Error {
  constructor() {
    super('cancelled');
  }
}

/** Which runtime thread a job runs on, as far as slot sharing goes: a backend, and how deep its own queue per slot is. */
export interface Lane {
  readonly name: string;
  /** Runs of one slot the backend takes at once (Backend.runsPerSlot); 1 for most. */
  readonly runsPerSlot: number;
}

interface JobBase {
  readonly enqueuedAt: number;
  /** ms since the epoch; the job is dropped if it has not started then. Infinity = no deadline. */
  readonly deadline: number;
  readonly lane: Lane;
  /** The key the command named (the model's or script's), for metrics; '' when unknown. */
  readonly key?: string;
  /** Set by the caller (client gone, DAG timed out): a queued job is dropped, never run. */
  cancelled: boolean;
  /**
   * Set by the queue when it hands the job to its backend: `started` then means started or soon
   * (a backend that queues runs itself can still withdraw it, see {@link withdrawJob}).
   */
  dispatched?: { queued: QueuedRun | undefined; batched: boolean };
  resolve(outputs: Tensor[]): void;
  reject(error: unknown): void;
}

/** A model run: may be batched with other jobs for the same model. */
export interface ModelJob extends JobBase {
  readonly kind: 'model';
  readonly model: Model;
  readonly inputs: readonly Tensor[];
}

/** Any other unit of work on a device (script runs). */
export interface TaskJob extends JobBase {
  readonly kind: 'task';
  /** Runs the task; `queued` as for models (see QueuedRun). */
  run(slot: number, queued: QueuedRun | undefined): Promise<Tensor[]>;
  /** Where run time and errors are counted. */
  readonly stats?: RunStats;
}

export type Job = ModelJob | TaskJob;

/**
 * Takes a job back before it starts (its client went away, its DAG timed out or failed). True when
 * it will never run: still in the engine's queue (dropped at the next pump), or withdrawn from its
 * backend's own queue; false once it runs (or ran).
 */
export function withdrawJob(job: Job): boolean {
  const d = job.dispatched;
  if (d === undefined) {
    job.cancelled = true;
    return true;
  }
  if (d.batched || d.queued?.withdraw === undefined) return false;
  return d.queued.withdraw();
}

interface Slot {
  readonly id: number;
  /** Jobs (batches count once) handed to the backend and not settled. */
  inflight: number;
  /** The lane of those jobs: a slot holds one runtime thread's work at a time. */
  lane: Lane | undefined;
}

/**
 * One run queue per device, served by `slots` (THREADS_PER_QUEUE) runtime threads. A backend that
 * queues runs itself (Backend.runsPerSlot > 1) gets up to that many of a slot's runs at once, so its
 * thread starts the next the moment one ends instead of waiting for the event loop to hand it over;
 * a slot holds one backend's work at a time, so a device never computes on more threads than it
 * has slots.
 *
 * A model stored with BATCHSIZE > 0 gets its queued requests merged along dimension 0, as the
 * original engine does: the first ready request, then later requests for the same model whose inputs
 * agree in every dimension but the first, until the batch reaches BATCHSIZE (a single request
 * already at or over it runs alone). Batches go to idle slots only, so requests keep merging while
 * one computes. MINBATCHSIZE holds a batch until it is reached or MINBATCHTIMEOUT (from the first
 * request's queuing) passes; other models' requests in the queue go meanwhile.
 */
export class RunQueue {
  private readonly items: Job[] = [];
  private readonly slotList: Slot[];
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  /** Runs of BATCHSIZE models started here, and the requests they served (INFO's batching figures). */
  batchRuns = 0;
  batchRequests = 0;
  private pumpScheduled = false;
  /** [observe] Metrics hook (observe.ts), told of every settled run; undefined = off. */
  observer: RunObserver | undefined;

  constructor(
    readonly device: string,
    slots: number,
    private readonly now: () => number = Date.now,
  ) {
    this.slotList = Array.from({ length: Math.max(1, slots) }, (_, id) => ({ id, inflight: 0, lane: undefined }));
  }

  /**
   * Requests waiting: in this queue, and behind the running one in a backend's own queue (a slot
   * runs its runs one at a time, in order).
   */
  get length(): number {
    let n = this.items.length;
    for (const s of this.slotList) if (s.inflight > 1) n += s.inflight - 1;
    return n;
  }

  /** Slots running something now. */
  get busy(): number {
    let n = 0;
    for (const s of this.slotList) if (s.inflight > 0) n++;
    return n;
  }

  push(job: Job): void {
    this.items.push(job);
    // A request that could be batched waits for the end of this event-loop turn: the requests
    // other sockets delivered in the same turn (closed-loop clients answered by one batch send
    // their next ones together) then join its batch instead of queueing behind a run of one.
    if (job.kind === 'model' && job.model.mergeable && this.idleSlot() !== undefined) this.pumpSoon();
    else this.pump();
  }

  private pumpSoon(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private idleSlot(): Slot | undefined {
    for (const s of this.slotList) if (s.inflight === 0) return s;
    return undefined;
  }

  /** An idle slot, else the least loaded one already on `lane` with room in its backend's queue. */
  private slotFor(lane: Lane, idleOnly: boolean): Slot | undefined {
    let best: Slot | undefined;
    for (const s of this.slotList) {
      if (s.inflight === 0) return s;
      if (idleOnly || s.lane?.name !== lane.name || s.inflight >= lane.runsPerSlot) continue;
      if (best === undefined || s.inflight < best.inflight) best = s;
    }
    return best;
  }

  /** Whether any slot could take more work of some lane. */
  private hasRoom(): boolean {
    for (const s of this.slotList) if (s.inflight === 0 || (s.lane !== undefined && s.inflight < s.lane.runsPerSlot)) return true;
    return false;
  }

  /** Starts as much ready work as the slots take. */
  pump(): void {
    const now = this.now();
    let wakeAt = Infinity;
    let i = 0;
    while (i < this.items.length && this.hasRoom()) {
      const job = this.items[i]!;
      if (job.cancelled) {
        this.items.splice(i, 1);
        job.reject(new Cancelled());
        continue;
      }
      if (job.deadline <= now) {
        this.items.splice(i, 1);
        job.reject(new TimedOut());
        continue;
      }
      const mergeable = job.kind === 'model' && job.model.mergeable;
      const slot = this.slotFor(job.lane, mergeable);
      if (slot === undefined) {
        i++;
        continue;
      }
      if (job.kind === 'task') {
        this.items.splice(i, 1);
        this.start(slot, [job]);
        continue;
      }
      const batch = this.collectBatch(i, now);
      if (batch === 'wait') {
        const m = job.model.meta;
        if (m.minBatchTimeout > 0) wakeAt = Math.min(wakeAt, job.enqueuedAt + m.minBatchTimeout);
        if (job.deadline !== Infinity) wakeAt = Math.min(wakeAt, job.deadline);
        i++;
        continue;
      }
      if (batch.length === 1) this.items.splice(i, 1);
      else for (const j of batch) this.items.splice(this.items.indexOf(j), 1);
      this.start(slot, batch);
    }
    this.arm(wakeAt);
  }

  /** The jobs to run together starting at items[i], or 'wait' when MINBATCHSIZE holds them. */
  private collectBatch(i: number, now: number): ModelJob[] | 'wait' {
    const head = this.items[i] as ModelJob;
    if (!head.model.mergeable) return [head];
    const { batchSize, minBatchSize, minBatchTimeout } = head.model.meta;
    const batch = [head];
    let total = batchDim(head);
    for (let k = i + 1; k < this.items.length && total < batchSize; k++) {
      const other = this.items[k]!;
      if (other.kind !== 'model' || other.model !== head.model || other.cancelled || other.deadline <= now) continue;
      if (!compatible(head, other)) continue;
      batch.push(other);
      total += batchDim(other);
    }
    if (minBatchSize > 0 && total < minBatchSize) {
      const timedOut = minBatchTimeout > 0 && now - head.enqueuedAt >= minBatchTimeout;
      if (!timedOut) return 'wait';
    }
    return batch;
  }

  private arm(at: number): void {
    if (at === Infinity || (this.timer !== undefined && this.timerAt <= at)) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.pump();
    }, Math.max(0, at - this.now()));
    this.timer.unref();
  }

  private start(slot: Slot, jobs: Job[]): void {
    const head = jobs[0]!;
    const lane = head.lane;
    slot.inflight++;
    slot.lane = lane;
    // A backend that queues runs itself gets the deadline, and hands back a way to withdraw.
    const queued: QueuedRun | undefined = lane.runsPerSlot > 1 ? { deadline: head.deadline, withdraw: undefined, computeUs: undefined } : undefined;
    const batched = jobs.length > 1;
    for (const j of jobs) j.dispatched = { queued, batched };
    const done = () => {
      if (--slot.inflight === 0) slot.lane = undefined;
      this.pump();
    };
    if (head.kind === 'task') {
      runTask(head, slot.id, queued, this.observer, this.device).then(done, done);
      return;
    }
    // The run holds its own reference: its DAG may finish (client gone, timeout) and drop the
    // model while the backend is still computing.
    const model = (head as ModelJob).model.retain();
    if (model.meta.batchSize > 0) {
      this.batchRuns++;
      this.batchRequests += jobs.length;
    }
    runModelBatch(jobs as ModelJob[], slot.id, queued, this.observer).then(
      () => {
        model.release();
        done();
      },
      () => {
        model.release();
        done();
      },
    );
  }

  /** Rejects every queued job (shutdown). */
  clear(error: Error): void {
    for (const j of this.items.splice(0)) j.reject(error);
    if (this.timer !== undefined) clearTimeout(this.timer);
  }
}

function batchDim(job: ModelJob): number {
  return job.inputs[0]?.shape[0] ?? 1;
}

/** Same number of inputs, each of the same dtype and the same dimensions after the first. */
function compatible(a: ModelJob, b: ModelJob): boolean {
  if (a.inputs.length !== b.inputs.length) return false;
  return a.inputs.every((t, n) => {
    const u = b.inputs[n]!;
    if (t.dtype !== u.dtype || t.shape.length !== u.shape.length || t.shape.length === 0) return false;
    for (let d = 1; d < t.shape.length; d++) if (t.shape[d] !== u.shape[d]) return false;
    return true;
  });
}

/** What a job is told when its run did not happen or failed: the queue's own errors for skipped runs. */
function failure(e: unknown): unknown {
  if (e instanceof RunNotStarted) return e.reason === 'timeout' ? new TimedOut() : new Cancelled();
  return clientError(e);
}

/** Settles a job; a throwing callback (a bug) must not strand the others or the slot. */
function settle(job: Job, outputs: Tensor[] | undefined, error: unknown): void {
  try {
    if (outputs !== undefined) job.resolve(outputs);
    else job.reject(error);
  } catch (e) {
    queueMicrotask(() => {
      throw e;
    });
  }
}

const elapsedUs = (t0: bigint) => Number((process.hrtime.bigint() - t0) / 1000n);

async function runTask(job: TaskJob, slot: number, queued: QueuedRun | undefined, observer: RunObserver | undefined, device: string): Promise<void> {
  const t0 = process.hrtime.bigint();
  let out: Tensor[] | undefined;
  let error: unknown;
  try {
    out = await job.run(slot, queued);
  } catch (e) {
    error = failure(e);
  }
  const stats = job.stats;
  if (!(error instanceof TimedOut || error instanceof Cancelled)) {
    const us = queued?.computeUs ?? elapsedUs(t0);
    if (stats !== undefined) {
      stats.calls++;
      stats.durationUs += us;
      if (out === undefined) stats.errors++;
    }
    observer?.taskRun(job, device, us, out === undefined);
  }
  settle(job, out, error);
}

/** Runs one batch (often of one job) and hands each job its outputs, updating AI.INFO stats. */
async function runModelBatch(jobs: ModelJob[], slot: number, queued: QueuedRun | undefined, observer: RunObserver | undefined): Promise<void> {
  const model = jobs[0]!.model;
  const ctx = queued === undefined ? { slot } : { slot, queued };
  const t0 = process.hrtime.bigint();
  let outputs: Tensor[][] | undefined;
  let error: unknown;
  try {
    if (jobs.length === 1) {
      outputs = [await model.handle.run(jobs[0]!.inputs, ctx)];
    } else {
      const sizes = jobs.map(batchDim);
      const total = sizes.reduce((a, b) => a + b, 0);
      const inputs = jobs[0]!.inputs.map((_, n) => concat(jobs.map((j) => j.inputs[n]!)));
      const merged = await model.handle.run(inputs, ctx);
      // Every output must carry the batch in dimension 0 to be split back per request.
      if (merged.some((t) => t.shape[0] !== total)) throw new RespaiError(E.badBatchOutput);
      const parts = merged.map((t) => split(t, sizes));
      outputs = jobs.map((_, j) => parts.map((p) => p[j]!));
    }
  } catch (e) {
    error = failure(e);
  }
  const skipped = error instanceof TimedOut || error instanceof Cancelled;
  const stats = model.stats;
  if (!skipped) {
    const us = queued?.computeUs ?? elapsedUs(t0);
    stats.recordRun(jobs.length);
    stats.calls += jobs.length;
    stats.durationUs += us * jobs.length;
    if (outputs === undefined) stats.errors += jobs.length;
    observer?.modelRun(jobs, us, outputs === undefined);
  }
  for (let j = 0; j < jobs.length; j++) {
    const out = outputs?.[j];
    if (out !== undefined) stats.samples += out[0]?.shape[0] ?? 0;
    settle(jobs[j]!, out, error);
  }
}
