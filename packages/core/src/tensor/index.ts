export * from './dtype.js';
// formatDouble stays internal (tests use it); the server formats replies with its own resp/format.ts.
export { parseDouble, parseInteger } from './numbers.js';
export * from './tensor.js';
export * from './args.js';
