/**
 * `@respai/core/testing`: what tests of the engine, the server and backends share. A deterministic
 * mock backend, helpers to build tensors, engines and model specs, and the backend conformance
 * suite every backend package runs (it registers vitest suites, so import it from test files only).
 */
export * from './mock-backend.js';
export * from './helpers.js';
export * from './conformance.js';
export * from './shared-data.js';
export * from './build.js';
