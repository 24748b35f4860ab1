export * from './errors.js';
export * from './tensor/index.js';
export * from './keyspace/index.js';
