import { parentPort, workerData } from 'node:worker_threads';
import { runMaterialized, type MaterializedSpec, type WorkerMessage } from './run.js';

const { spec, progress } = workerData as { spec: MaterializedSpec; progress: boolean };
// Structured clone turns Buffers into plain Uint8Arrays; socket.write wants Buffers.
spec.requests = spec.requests.map((reqs) =>
  reqs.map((u) => Buffer.from(u.buffer, u.byteOffset, u.byteLength)),
);
const post = (m: WorkerMessage) => parentPort!.postMessage(m);

runMaterialized(spec, progress ? (p) => post({ type: 'progress', progress: p }) : undefined).then(
  (r) => post({ type: 'result', result: { ...r, histogram: r.histogram.toJSON() } }),
  (e: unknown) => post({ type: 'error', message: e instanceof Error ? e.message : String(e) }),
);
