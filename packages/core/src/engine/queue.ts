import { E, RespaiError, clientError } from '../errors.js';
import { concat, split, type Tensor } from '../tensor/index.js';
import type { Model } from './model.js';

/** Thrown into a job that waited in its queue past its deadline. */
export class TimedOut extends Error {
  constructor() {
    super('TIMEDOUT');
  }
}

/** Thrown into a job whose caller went away before it ran. */
export class Cancelled extends Error {
  constructor() {
    super('cancelled');
  }
}

interface JobBase {
  readonly enqueuedAt: number;
  /** ms since the epoch; the job is dropped if still queued then. Infinity = no deadline. */
  readonly deadline: number;
  /** Set by the caller (client gone, DAG timed out): a queued job is dropped, never run. */
  cancelled: boolean;
  /** Called when the job starts running (a DAG's timeout no longer applies to it). */
  onStart?: () => void;
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
  run(slot: number): Promise<Tensor[]>;
}

export type Job = ModelJob | TaskJob;

/**
 * One run queue per device, served by `slots` (THREADS_PER_QUEUE) concurrent runs. A model
 * stored with BATCHSIZE > 0 gets its queued requests merged along dimension 0, as the original
 * engine does: the first ready request, then later requests for the same model whose inputs agree
 * in every dimension but the first, until the batch reaches BATCHSIZE (a single request already
 * at or over it runs alone). MINBATCHSIZE holds a batch until it is reached or MINBATCHTIMEOUT
 * (from the first request's queuing) passes; other models' requests in the queue go meanwhile.
 */
export class RunQueue {
  private readonly items: Job[] = [];
  private readonly free: number[];
  private readonly slots: number;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  /** Runs of BATCHSIZE models started here, and the requests they served (INFO's batching figures). */
  batchRuns = 0;
  batchRequests = 0;
  private pumpScheduled = false;

  constructor(
    readonly device: string,
    slots: number,
    private readonly now: () => number = Date.now,
  ) {
    this.slots = Math.max(1, slots);
    this.free = Array.from({ length: this.slots }, (_, i) => i);
  }

  get length(): number {
    return this.items.length;
  }

  /** Slots running something now. */
  get busy(): number {
    return this.slots - this.free.length;
  }

  push(job: Job): void {
    this.items.push(job);
    // A request that could be batched waits for the end of this event-loop turn: the requests
    // other sockets delivered in the same turn (closed-loop clients answered by one batch send
    // their next ones together) then join its batch instead of queueing behind a run of one.
    if (job.kind === 'model' && job.model.mergeable && this.free.length > 0) this.pumpSoon();
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

  /** Starts as many runs as there are free slots and ready work. */
  pump(): void {
    const now = this.now();
    let wakeAt = Infinity;
    let i = 0;
    while (this.free.length > 0 && i < this.items.length) {
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
      if (job.kind === 'task') {
        this.items.splice(i, 1);
        this.start([job]);
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
      for (const j of batch) this.items.splice(this.items.indexOf(j), 1);
      this.start(batch);
    }
    this.arm(wakeAt);
  }

  /** The jobs to run together starting at items[i], or 'wait' when MINBATCHSIZE holds them. */
  private collectBatch(i: number, now: number): ModelJob[] | 'wait' {
    const head = this.items[i] as ModelJob;
    const { batchSize, minBatchSize, minBatchTimeout } = head.model.meta;
    if (!head.model.mergeable) return [head];
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

  private start(jobs: Job[]): void {
    const slot = this.free.shift()!;
    for (const j of jobs) j.onStart?.();
    const done = () => {
      this.free.push(slot);
      this.free.sort((a, b) => a - b);
      this.pump();
    };
    const head = jobs[0]!;
    if (head.kind === 'task') {
      head.run(slot).then(head.resolve, head.reject).finally(done);
      return;
    }
    // The run holds its own reference: its DAG may finish (client gone, timeout) and drop the
    // model while the backend is still computing.
    const model = (jobs[0] as ModelJob).model.retain();
    if (model.meta.batchSize > 0) {
      this.batchRuns++;
      this.batchRequests += jobs.length;
    }
    runModelBatch(jobs as ModelJob[], slot).finally(() => {
      model.release();
      done();
    });
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

/** Runs one batch (often of one job) and hands each job its outputs, updating AI.INFO stats. */
async function runModelBatch(jobs: ModelJob[], slot: number): Promise<void> {
  const model = jobs[0]!.model;
  const stats = model.stats;
  const t0 = process.hrtime.bigint();
  let outputs: Tensor[][] | undefined;
  let error: unknown;
  try {
    if (jobs.length === 1) {
      outputs = [await model.handle.run(jobs[0]!.inputs, { slot })];
    } else {
      const sizes = jobs.map(batchDim);
      const total = sizes.reduce((a, b) => a + b, 0);
      const inputs = jobs[0]!.inputs.map((_, n) => concat(jobs.map((j) => j.inputs[n]!)));
      const merged = await model.handle.run(inputs, { slot });
      // Every output must carry the batch in dimension 0 to be split back per request.
      if (merged.some((t) => t.shape[0] !== total)) throw new RespaiError(E.badBatchOutput);
      const parts = merged.map((t) => split(t, sizes));
      outputs = jobs.map((_, j) => parts.map((p) => p[j]!));
    }
  } catch (e) {
    error = e;
  }
  const us = Number((process.hrtime.bigint() - t0) / 1000n);
  stats.recordRun(jobs.length);
  jobs.forEach((job, j) => {
    stats.calls++;
    stats.durationUs += us;
    if (outputs === undefined) {
      stats.errors++;
      job.reject(clientError(error));
      return;
    }
    const out = outputs[j]!;
    stats.samples += out[0]?.shape[0] ?? 0;
    job.resolve(out);
  });
}
