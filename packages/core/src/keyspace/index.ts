export * from './keyspace.js';
export * from './memory.js';
export * from './collections.js';
export * from './list.js';
