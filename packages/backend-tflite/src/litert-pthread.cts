/**
 * The script each pthread of LiteRT.js's threaded build runs (a worker thread started by its
 * Emscripten loader with `workerData: 'em-pthread'`): the loader again, evaluated as the CommonJS
 * script it is (its package is `type: module`, so Node would not run the file itself as one); it
 * sees it is a pthread and waits for the main thread's messages.
 */
const { readFileSync } = require('node:fs') as typeof import('node:fs');
const { createRequire } = require('node:module') as typeof import('node:module');
const { dirname, join } = require('node:path') as typeof import('node:path');
const vm = require('node:vm') as typeof import('node:vm');

const file = join(dirname(require.resolve('@litertjs/core/package.json')), 'wasm', 'litert_wasm_threaded_internal.js');
const fn = vm.runInThisContext(`(function (exports, require, module, __filename, __dirname, navigator) {${readFileSync(file, 'utf8')}\n})`, { filename: file }) as (
  ...args: unknown[]
) => void;
const module_ = { exports: {} };
fn(module_.exports, createRequire(file), module_, file, dirname(file), { hardwareConcurrency: 1 });
