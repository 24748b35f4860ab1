import { runLoad, type RequestFactory } from './loadgen/index.js';

/**
 * Unmeasured load on a freshly started server before its first measurement. A new respai process
 * serves a fraction of its steady rate for its first seconds (V8 compiles the hot paths, the
 * runtime's session warms up): measured cold, whichever configuration runs first looks slow.
 */
export async function warmUp(port: number, ms: number, connections: number, requests: RequestFactory, chain = 1, repliesPerRequest = 1): Promise<void> {
  if (ms <= 0) return;
  const r = await runLoad({ port, connections, requests, chain, repliesPerRequest, windowMs: ms, warmupMs: 0, maxWindows: 1 });
  if (r.errors > 0) throw new Error(`warm-up: ${r.errors} error replies, first: ${r.firstError}`);
}

/** `--server-warmup-ms`, default 3000 (1000 with --quick). */
export function serverWarmupMs(value: string | undefined, quick: boolean): number {
  if (value === undefined) return quick ? 1000 : 3000;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--server-warmup-ms must be a whole number of ms, got ${value}`);
  return n;
}
