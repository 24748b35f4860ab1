import { realpathSync } from 'node:fs';
import { sep } from 'node:path';
import { BACKEND_NAMES, DEFAULT_BACKEND_PACKAGES, E, fail, resolveBackend, type BackendName } from '@respai/core';
import { OK, type Reply } from '../resp/reply.js';
import { is, parseInt64 } from './args.js';
import { defineCommand, type ExecContext } from './types.js';

type Request =
  | { op: 'backendspath'; path: string }
  | { op: 'loadbackend'; backend: BackendName; path: string }
  | { op: 'chunksize'; size: number }
  | { op: 'get'; name: string };

export const aiConfig = defineCommand<Request>({
  name: 'ai.config',
  arity: -2,
  flags: ['admin'],
  summary: 'AI.CONFIG BACKENDSPATH p | LOADBACKEND <TF|TFLITE|TORCH|ONNX> p | MODEL_CHUNK_SIZE n | GET <name>.',
  group: 'ai',
  // The original's checks and texts: a missing value has its own text (BACKENDSPATH,
  // MODEL_CHUNK_SIZE) or the arity error (LOADBACKEND, GET); arguments past those used are ignored.
  parse(args) {
    const sub = args[0]!;
    if (is(sub, 'LOADBACKEND')) {
      if (args.length < 3) fail(E.arity('ai.config'));
      const name = args[1]!.toString().toUpperCase();
      if (!BACKEND_NAMES.includes(name as BackendName)) fail(E.unsupportedBackend);
      return { op: 'loadbackend', backend: name as BackendName, path: args[2]!.toString() };
    }
    if (is(sub, 'BACKENDSPATH')) {
      if (args.length < 2) fail(E.backendsPathMissing);
      return { op: 'backendspath', path: args[1]!.toString() };
    }
    if (is(sub, 'MODEL_CHUNK_SIZE')) {
      if (args.length < 2) fail(E.chunkSizeMissing);
      const v = parseInt64(args[1]!);
      if (v === undefined || v <= 0n || v > 2n ** 52n) fail(E.chunkSize);
      return { op: 'chunksize', size: Number(v) };
    }
    if (is(sub, 'GET')) {
      if (args.length < 2) fail(E.arity('ai.config'));
      return { op: 'get', name: args[1]!.toString().toUpperCase() };
    }
    fail(E.unsupportedSubcommand);
  },
  execute(ctx, req) {
    if (req.op === 'loadbackend') {
      checkTrusted(ctx, req.path);
      return ctx.server.engine.loadBackend(req.backend, req.path).then(() => OK);
    }
    return configure(ctx, req);
  },
  // In a transaction the backend loads before EXEC's commands run: a backend is no key.
  async prepare(ctx, req) {
    if (req.op === 'loadbackend') {
      checkTrusted(ctx, req.path);
      await ctx.server.engine.loadBackend(req.backend, req.path);
      return () => OK;
    }
    return () => configure(ctx, req);
  },
});

/**
 * Backends run code in the server: unless `enable-loadbackend-anywhere yes` was set at start,
 * LOADBACKEND takes respai's own backend packages by name, or files under the BACKENDSPATH the
 * server started with (AI.CONFIG BACKENDSPATH moves where names resolve, not what is trusted).
 */
function checkTrusted(ctx: ExecContext, path: string): void {
  const o = ctx.server.options;
  if (o['enable-loadbackend-anywhere'] === 'yes') return;
  if ((Object.values(DEFAULT_BACKEND_PACKAGES) as string[]).includes(path)) return;
  const root = ctx.server.trustedBackendsPath ?? o.backendspath;
  let entry: string;
  let trusted: string;
  try {
    entry = realpathSync(resolveBackend(path, o.backendspath));
    trusted = realpathSync(root);
  } catch {
    // Not found: the load fails with the original's text, as it would anyway.
    return;
  }
  if (!entry.startsWith(trusted.endsWith(sep) ? trusted : trusted + sep)) fail(E.loadBackendAnywhere);
}

function configure(ctx: ExecContext, req: Exclude<Request, { op: 'loadbackend' }>): Reply {
  const { engine, options } = ctx.server;
  switch (req.op) {
    case 'backendspath':
      options.backendspath = req.path;
      ctx.server.onOptionChanged('backendspath');
      return OK;
    case 'chunksize':
      options['model-chunk-size'] = req.size;
      ctx.server.onOptionChanged('model-chunk-size');
      return OK;
    case 'get':
      if (req.name === 'BACKENDSPATH') return engine.config.backendsPath;
      if (req.name === 'MODEL_CHUNK_SIZE') return engine.config.modelChunkSize;
      return null;
  }
}
