export * from './keyspace.js';
export * from './memory.js';
