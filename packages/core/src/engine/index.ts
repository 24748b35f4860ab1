export * from './dag.js';
export * from './engine.js';
export * from './model.js';
export * from './queue.js';
export * from './stats.js';
export * from './script.js';
export * from './observe.js';
