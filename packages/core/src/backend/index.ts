export * from './spi.js';
export * from './device.js';
export * from './registry.js';
export * from './workers.js';
export * from './worker-models.js';
export * from './run-control.js';
export * from './probe.js';
export * from './module-url.js';
