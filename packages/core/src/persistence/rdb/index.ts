export * from './crc64.js';
export * from './lzf.js';
export * from './codec.js';
export * from './encodings.js';
export * from './ai.js';
export * from './values.js';
export * from './dump.js';
export * from './file.js';
