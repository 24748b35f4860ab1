import type { ModelJob, TaskJob } from './queue.js';

/**
 * Told about every backend run the run queues make, for metrics (the server's /metrics). Called
 * on the event loop once a run settles; runs that never started (timed out or withdrawn in the
 * queue) are not reported. Implementations must be cheap: they sit on the run path.
 */
export interface RunObserver {
  /**
   * One backend run of a model serving `jobs` (one, or a batch), `computeUs` of compute (the
   * backend's own figure when it reports one); `failed` when the run threw.
   */
  modelRun(jobs: readonly ModelJob[], computeUs: number, failed: boolean): void;
  /** One script run on `device`. */
  taskRun(job: TaskJob, device: string, computeUs: number, failed: boolean): void;
}
