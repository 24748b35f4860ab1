export * from './encoding.js';
export * from './slot.js';
export * from './lua.js';
export * from './store.js';
export * from './cache.js';
export * from './overlay.js';
export * from './external.js';
