export { Histogram, type HistogramSnapshot } from './histogram.js';
export { encodeCommand, ReplyScanner, type Arg } from './resp.js';
export { sendBatch, type BatchResult } from './batch.js';
export { ProgressLine, formatProgress, formatRate } from './progress.js';
export {
  runLoad,
  sweep,
  isStable,
  type LoadSpec,
  type LoadResult,
  type Progress,
  type RequestFactory,
} from './run.js';
