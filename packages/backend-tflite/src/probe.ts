/**
 * Reads a model from stdin, builds an interpreter for it and runs it once on zeros, in a process
 * of its own: TFLite 2.2 aborts or segfaults on some flatbuffers that pass its verifier (a graph
 * reading tensors nothing writes, inconsistent quantization), and the server must survive any
 * bytes a client uploads. Exit 0 and the description on stdout when the model loads (whether or
 * not the run on zeros succeeded: zeros need not be valid inputs); PROBE_REFUSED_EXIT and the reason
 * on stderr when TFLite refuses the model; death by a signal when TFLite crashes (see
 * `probeChildProcess` in @respai/core).
 */
import { PROBE_REFUSED_EXIT } from '@respai/core/worker';
import { nativeAddon } from './native.js';

const chunks: Buffer[] = [];
process.stdin.on('data', (c: Buffer) => chunks.push(c));
process.stdin.on('end', () => {
  try {
    const it = new (nativeAddon().Interpreter)(new Uint8Array(Buffer.concat(chunks)), 1);
    const info = it.describe();
    const sizes: Record<number, number> = { 1: 4, 2: 4, 3: 1, 4: 8, 6: 1, 7: 2, 9: 1 };
    try {
      it.run(info.inputs.map((t) => ({ dims: t.dims, data: new Uint8Array(t.dims.reduce((a, b) => a * b, 1) * (sizes[t.type] ?? 1)) })));
    } catch {
      // Refused inputs are the run's business, not the model's.
    }
    process.stdout.write(JSON.stringify(info));
    it.close();
  } catch (e) {
    process.stderr.write((e as Error).message);
    process.exitCode = PROBE_REFUSED_EXIT;
  }
});
