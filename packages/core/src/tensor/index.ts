export * from './dtype.js';
export * from './numbers.js';
export * from './tensor.js';
export * from './args.js';
