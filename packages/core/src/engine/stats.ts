let created = 0;

/** AI.INFO's counters for one model or script, plus what tuning the batcher needs. */
export class RunStats {
  /**
   * When these statistics were created, as a sequence number: the original listed models and
   * scripts (AI._MODELSCAN) in an order that follows from the order their statistics were made.
   */
  readonly created = ++created;
  /** Cumulative run time in microseconds (a batched run counts fully for each request in it). */
  durationUs = 0;
  /** Cumulative dim 0 of output 0 (models); scripts report -1. */
  samples = 0;
  calls = 0;
  errors = 0;
  /** Backend runs (a batch of requests is one run). */
  runs = 0;
  /** Requests served by those runs; batchedRequests / runs is the average batch formed. */
  batchedRequests = 0;
  /** Histogram of batch sizes formed (requests per run): size -> count. */
  readonly batchSizes = new Map<number, number>();

  reset(): void {
    this.durationUs = 0;
    this.samples = 0;
    this.calls = 0;
    this.errors = 0;
    this.runs = 0;
    this.batchedRequests = 0;
    this.batchSizes.clear();
  }

  recordRun(requests: number): void {
    this.runs++;
    this.batchedRequests += requests;
    this.batchSizes.set(requests, (this.batchSizes.get(requests) ?? 0) + 1);
  }
}
