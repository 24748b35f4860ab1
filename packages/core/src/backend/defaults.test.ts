import { describe, expect, it } from 'vitest';
import { DEFAULT_ENGINE_CONFIG } from '../engine/engine.js';
import { DEFAULT_BACKEND_SETTINGS } from './spi.js';

// The original engine's defaults (../shared/spec/behaviour.md, "Configuration"), pinned as
// literals: the engine's, the server's and a backend's before `init` all come from this one table.
describe('defaults', () => {
  it("a backend's settings before init are the original's", () => {
    const { log: _log, ...numbers } = DEFAULT_BACKEND_SETTINGS;
    expect(numbers).toEqual({
      intraOpParallelism: 0,
      interOpParallelism: 0,
      modelExecutionTimeoutMs: 5000,
      backendMemoryLimitMb: 0,
      threadsPerQueue: 1,
    });
  });

  it("the engine's configuration", () => {
    expect(DEFAULT_ENGINE_CONFIG).toEqual({
      modelChunkSize: 535822336,
      threadsPerQueue: 1,
      intraOpParallelism: 0,
      interOpParallelism: 0,
      modelExecutionTimeoutMs: 5000,
      backendMemoryLimitMb: 0,
    });
  });
});
