export { RespaiServer, startServer, type StartOptions } from './server.js';
export { loadOptions, DEFAULTS, type ServerOptions } from './config.js';
export { RespDecoder } from './resp/decoder.js';
export { ReplyWriter } from './resp/encoder.js';
export * from './resp/reply.js';
