import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (p: string) => fileURLToPath(new URL(p, import.meta.url));

// Workspace packages resolve to their TypeScript sources, so unit tests never run stale builds.
// End-to-end tests in test/ spawn the built server (scripts/bootstrap builds it first).
const alias = {
  // Before '@respai/core': aliases match by prefix, and the first match wins.
  '@respai/core/testing': src('./packages/core/src/testing/index.ts'),
  '@respai/core/worker': src('./packages/core/src/worker.ts'),
  // Seeded mutators without vitest: benchmarks and scripts use them too.
  '@respai/core/fuzz': src('./packages/core/src/testing/fuzz.ts'),
  '@respai/core': src('./packages/core/src/index.ts'),
  '@respai/server': src('./apps/server/src/index.ts'),
  '@respai/client': src('./packages/client/src/index.ts'),
  '@respai/keyspace-redis': src('./packages/keyspace-redis/src/index.ts'),
  // The ONNX writer (no imports of its own) for building model fixtures in end-to-end tests.
  '@respai/backend-onnx/testing': src('./packages/backend-onnx/src/testing/onnx-writer.ts'),
  // TorchScript archives saved by the addon, GraphDefs written by the TF writer, TFLite flatbuffers.
  '@respai/backend-torch/testing': src('./packages/backend-torch/src/testing.ts'),
  '@respai/backend-tf/testing': src('./packages/backend-tf/src/testing/index.ts'),
  '@respai/backend-tflite/testing': src('./packages/backend-tflite/src/testing/tflite-writer.ts'),
};

export default defineConfig({
  test: {
    projects: [
      { resolve: { alias }, test: { name: 'core', include: ['packages/core/src/**/*.test.ts'] } },
      // Pure parse/execute tests: sharing one module graph saves ~0.5 s of start-up per file.
      { resolve: { alias }, test: { name: 'server', include: ['apps/server/src/**/*.test.ts'], isolate: false } },
      { resolve: { alias }, test: { name: 'bench', include: ['apps/bench/src/**/*.test.ts'] } },
      { resolve: { alias }, test: { name: 'backend-onnx', include: ['packages/backend-onnx/src/**/*.test.ts'] } },
      { resolve: { alias }, test: { name: 'backend-tf', include: ['packages/backend-tf/src/**/*.test.ts'] } },
      { resolve: { alias }, test: { name: 'backend-torch', include: ['packages/backend-torch/src/**/*.test.ts'] } },
      { resolve: { alias }, test: { name: 'backend-tflite', include: ['packages/backend-tflite/src/**/*.test.ts'] } },
      { resolve: { alias }, test: { name: 'client', include: ['packages/client/src/**/*.test.ts'] } },
      { resolve: { alias }, test: { name: 'keyspace-redis', include: ['packages/keyspace-redis/src/**/*.test.ts'] } },
      {
        resolve: { alias },
        test: { name: 'cli', include: ['apps/cli/src/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 60_000 },
      },
      {
        resolve: { alias },
        test: { name: 'e2e', include: ['test/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 60_000 },
      },
    ],
  },
});
