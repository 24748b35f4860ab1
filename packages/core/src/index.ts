export * from './errors.js';
export * from './tensor/index.js';
export * from './keyspace/index.js';
export * from './backend/index.js';
export * from './engine/index.js';
export * from './persistence/index.js';
