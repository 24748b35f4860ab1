import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../engine/engine.js';
import { RespaiError } from '../errors.js';
import { MemoryKeyspace } from '../keyspace/memory.js';
import { createMockBackend, memoryLogger, mockModelSpec, silentLogger } from '../testing/index.js';
import { BackendLoadError, BackendRegistry, DEFAULT_BACKEND_PACKAGES, checkBackend, resolveBackend } from './registry.js';
import { BACKEND_API_VERSION, type Backend, type BackendName, type BackendSettings } from './spi.js';

// Backends here are real ESM files in a temp dir, imported by the registry as the server would.
let root: string;
let backendsPath: string;

interface ModOpts {
  name?: string;
  apiVersion?: unknown;
  version?: unknown;
  initThrows?: boolean;
  initMs?: number;
}

/** A tiny backend module; `inits` counts init calls, `settings` keeps the last ones. */
function backendSource(o: ModOpts = {}): string {
  return `
let inits = 0;
const backend = {
  apiVersion: ${JSON.stringify(o.apiVersion ?? 1)},
  name: ${JSON.stringify(o.name ?? 'ONNX')},
  ${o.version === undefined ? "version: '1.2.3'," : `version: ${JSON.stringify(o.version)},`}
  settings: undefined,
  get inits() { return inits; },
  async init(settings) {
    inits++;
    await new Promise((r) => setTimeout(r, ${o.initMs ?? 5}));
    ${o.initThrows ? "throw new Error('no runtime here');" : ''}
    this.settings = settings;
  },
  supportsDevice(d) { return d.type === 'CPU'; },
  async loadModel(req) {
    return { inputs: [{ name: 'x' }], outputs: [{ name: 'y' }], async run(t) { return [t[0]]; }, dispose() {} };
  },
  disposed: 0,
  dispose() { this.disposed++; },
};
export default backend;
`;
}

function write(rel: string, content: string): string {
  const p = join(root, rel);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, content);
  return p;
}

/** A package directory with a package.json and its files. */
function writePackage(dir: string, pkg: Record<string, unknown>, files: Record<string, string>): string {
  write(join(dir, 'package.json'), JSON.stringify({ type: 'module', version: '0.0.0', ...pkg }));
  for (const [f, c] of Object.entries(files)) write(join(dir, f), c);
  return join(root, dir);
}

let seq = 0;
/** A unique file name, so the ESM cache never hands a test another test's module. */
const uniq = (stem: string) => `${stem}-${++seq}`;

const settings: BackendSettings = {
  intraOpParallelism: 2,
  interOpParallelism: 3,
  modelExecutionTimeoutMs: 1234,
  backendMemoryLimitMb: 0,
  threadsPerQueue: 4,
  log: silentLogger,
};

function registry(defaults?: Partial<Record<BackendName, string>>): BackendRegistry {
  return new BackendRegistry({ backendsPath: () => backendsPath, settings: () => settings, ...(defaults ? { defaults } : {}) });
}

type Counted = Backend & { inits: number; settings?: BackendSettings; disposed: number };

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'respai-registry-'));
  backendsPath = join(root, 'srv', 'backends');
  mkdirSync(backendsPath, { recursive: true });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('BackendRegistry.load: where backends come from', () => {
  it('an absolute path to a module file; init once with the settings', async () => {
    const file = write(`abs/${uniq('onnx')}.mjs`, backendSource());
    const r = registry();
    const b = (await r.load('ONNX', file)) as Counted;
    expect(b.name).toBe('ONNX');
    expect(b.version).toBe('1.2.3');
    expect(b.inits).toBe(1);
    expect(b.settings).toBe(settings);
    expect(r.peek('ONNX')).toBe(b);
    expect(r.list()).toEqual([b]);
    expect(await r.get('ONNX')).toBe(b); // no second load
    expect(b.inits).toBe(1);
  });

  it('a path relative to BACKENDSPATH, with or without ./', async () => {
    const name = uniq('rel');
    write(`srv/backends/sub/${name}.mjs`, backendSource({ name: 'TFLITE' }));
    const b = await registry().load('TFLITE', `sub/${name}.mjs`);
    expect(b.name).toBe('TFLITE');
    const name2 = uniq('rel');
    write(`srv/backends/sub/${name2}.mjs`, backendSource({ name: 'TFLITE' }));
    expect((await registry().load('TFLITE', `./sub/${name2}.mjs`)).name).toBe('TFLITE');
  });

  it('BACKENDSPATH is read at load time (AI.CONFIG BACKENDSPATH changes it)', async () => {
    let where = join(root, 'nowhere');
    const r = new BackendRegistry({ backendsPath: () => where, settings: () => settings });
    const name = uniq('late');
    write(`srv/backends/${name}.mjs`, backendSource());
    await expect(r.load('ONNX', `${name}.mjs`)).rejects.toThrow(BackendLoadError);
    where = backendsPath;
    expect((await r.load('ONNX', `${name}.mjs`)).name).toBe('ONNX');
  });

  it('a package directory (relative): exports, then main, then index.js', async () => {
    const a = uniq('dir-exports');
    writePackage(`srv/backends/${a}`, { exports: { '.': { types: './x.d.ts', import: './lib/entry.js' }, './other': './nope.js' } }, {
      'lib/entry.js': backendSource({ name: 'TORCH' }),
    });
    expect((await registry().load('TORCH', a)).name).toBe('TORCH');

    const b = uniq('dir-main');
    writePackage(`srv/backends/${b}`, { main: 'main.js' }, { 'main.js': backendSource({ name: 'TORCH' }) });
    expect((await registry().load('TORCH', `./${b}`)).name).toBe('TORCH');

    const c = uniq('dir-index');
    writePackage(`srv/backends/${c}`, {}, { 'index.js': backendSource({ name: 'TORCH' }) });
    expect((await registry().load('TORCH', c)).name).toBe('TORCH');
  });

  it('a package name found in BACKENDSPATH/node_modules (string exports, conditions, scopes)', async () => {
    const p1 = uniq('respai-backend');
    writePackage(`srv/backends/node_modules/${p1}`, { exports: './dist/index.js' }, { 'dist/index.js': backendSource() });
    expect((await registry().load('ONNX', p1)).name).toBe('ONNX');

    const p2 = uniq('respai-backend');
    writePackage(`srv/backends/node_modules/${p2}`, { exports: { node: { default: './n.js' }, default: './d.js' } }, { 'n.js': backendSource() });
    expect((await registry().load('ONNX', p2)).name).toBe('ONNX');

    const p3 = `@acme/${uniq('tf')}`;
    writePackage(`srv/backends/node_modules/${p3}`, { exports: { '.': { default: './i.js' } } }, { 'i.js': backendSource({ name: 'TF' }) });
    expect((await registry().load('TF', p3)).name).toBe('TF');
  });

  it("a package name found in an ancestor's node_modules, as Node looks packages up", async () => {
    const p = uniq('upper-backend');
    writePackage(`node_modules/${p}`, { main: 'index.js' }, { 'index.js': backendSource() });
    expect((await registry().load('ONNX', p)).name).toBe('ONNX');
  });

  it('refuses what is not there, naming BACKENDSPATH; ./names are not looked up in node_modules', async () => {
    const r = registry();
    await expect(r.load('ONNX', join(root, 'missing.mjs'))).rejects.toThrow(/missing\.mjs not found/);
    await expect(r.load('ONNX', 'no-such-package')).rejects.toThrow(`no-such-package not found (BACKENDSPATH is ${backendsPath})`);
    const p = uniq('dot-pkg');
    writePackage(`srv/backends/node_modules/${p}`, {}, { 'index.js': backendSource() });
    await expect(r.load('ONNX', `./${p}`)).rejects.toThrow(BackendLoadError);
    expect(r.list()).toEqual([]);
  });
});

describe('BackendRegistry.load: what is refused', () => {
  const refuse = async (src: string, as: BackendName, message: RegExp | string) => {
    const file = write(`bad/${uniq('b')}.mjs`, src);
    const r = registry();
    const e = await r.load(as, file).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(BackendLoadError);
    expect((e as Error).message).toMatch(message);
    // A failed load registers nothing.
    expect(r.peek(as)).toBeUndefined();
    expect(r.list()).toEqual([]);
    return r;
  };

  it('a module whose default export is not a backend', async () => {
    await refuse('export default 42;', 'ONNX', /not a respai backend/);
    await refuse('export const backend = {};', 'ONNX', /not a respai backend/);
    await refuse("export default { apiVersion: 1, name: 'ONNX', version: '1', supportsDevice() { return true; } };", 'ONNX', /not a respai backend/);
    await refuse('export default null;', 'ONNX', /not a respai backend/);
  });

  it('a wrong apiVersion', async () => {
    await refuse(backendSource({ apiVersion: 2 }), 'ONNX', `backend API version 2 is not supported (this server implements ${BACKEND_API_VERSION})`);
    await refuse(backendSource({ apiVersion: '1' }), 'ONNX', /API version 1 is not supported/);
  });

  it('a backend of another name, or of no known name', async () => {
    await refuse(backendSource({ name: 'TORCH' }), 'ONNX', 'this is a TORCH backend, not ONNX');
    await refuse(backendSource({ name: 'onnx' }), 'ONNX', 'unknown backend name onnx');
  });

  it('no version string', async () => {
    await refuse(backendSource({ version: 1 }), 'ONNX', 'backend has no version string');
  });

  it('a module that fails to import', async () => {
    await refuse('export default {;', 'ONNX', /^cannot import /);
    await refuse("throw new Error('top-level boom');", 'ONNX', /top-level boom/);
  });

  it('an init that throws: nothing registered, and a later load of a good backend works', async () => {
    const r = await refuse(backendSource({ initThrows: true }), 'ONNX', 'ONNX failed to initialise: no runtime here');
    const good = write(`ok/${uniq('onnx')}.mjs`, backendSource());
    expect((await r.load('ONNX', good)).name).toBe('ONNX');
    expect(r.list().map((b) => b.name)).toEqual(['ONNX']);
  });

  it('loading a backend twice, or while it loads', async () => {
    const r = registry();
    const f1 = write(`twice/${uniq('a')}.mjs`, backendSource({ initMs: 20 }));
    const f2 = write(`twice/${uniq('b')}.mjs`, backendSource());
    const first = r.load('ONNX', f1);
    await expect(r.load('ONNX', f2)).rejects.toThrow('ONNX is already loaded'); // while loading
    const b = await first;
    await expect(r.load('ONNX', f2)).rejects.toThrow('ONNX is already loaded');
    expect(r.peek('ONNX')).toBe(b);
    await expect(r.register(createMockBackend())).rejects.toThrow('ONNX is already loaded');
  });
});

describe('BackendRegistry.get: lazy loading of the default package', () => {
  it('the defaults are the @respai packages; overrides replace them', () => {
    expect(DEFAULT_BACKEND_PACKAGES).toEqual({
      ONNX: '@respai/backend-onnx',
      TORCH: '@respai/backend-torch',
      TF: '@respai/backend-tf',
      TFLITE: '@respai/backend-tflite',
    });
    const r = registry({ TF: 'my-tf' });
    expect(r.defaultPackage('TF')).toBe('my-tf');
    expect(r.defaultPackage('ONNX')).toBe('@respai/backend-onnx');
  });

  it('concurrent gets load and init once, and all get the same backend', async () => {
    const p = uniq('lazy');
    writePackage(`srv/backends/node_modules/${p}`, { exports: './index.js' }, { 'index.js': backendSource({ initMs: 20 }) });
    const r = registry({ ONNX: p });
    const all = await Promise.all([r.get('ONNX'), r.get('ONNX'), r.get('ONNX')]);
    expect(new Set(all).size).toBe(1);
    expect((all[0] as Counted).inits).toBe(1);
    expect(await r.get('ONNX')).toBe(all[0]);
    expect((all[0] as Counted).inits).toBe(1);
  });

  it('a failed lazy load is not remembered: every waiter fails, a later get retries', async () => {
    const p = uniq('later');
    const r = registry({ TORCH: p });
    const both = await Promise.allSettled([r.get('TORCH'), r.get('TORCH')]);
    expect(both.map((s) => s.status)).toEqual(['rejected', 'rejected']);
    expect(r.peek('TORCH')).toBeUndefined();
    writePackage(`srv/backends/node_modules/${p}`, {}, { 'index.js': backendSource({ name: 'TORCH' }) });
    expect((await r.get('TORCH')).name).toBe('TORCH');
  });

  it('a default package of the wrong backend is refused', async () => {
    const p = uniq('wrong');
    writePackage(`srv/backends/node_modules/${p}`, {}, { 'index.js': backendSource({ name: 'TF' }) });
    await expect(registry({ ONNX: p }).get('ONNX')).rejects.toThrow('this is a TF backend, not ONNX');
  });
});

describe('BackendRegistry.register / dispose / checkBackend', () => {
  it('registers objects after checking them and calling init', async () => {
    const r = registry();
    const b = createMockBackend({ name: 'TF' });
    expect(await r.register(b)).toBe(b);
    expect(b.initCalls).toBe(1);
    expect(b.settings).toBe(settings);
    await expect(r.register(createMockBackend({ name: 'TORCH' }), 'ONNX')).rejects.toThrow('this is a TORCH backend, not ONNX');
    await expect(r.register({ loadModel() {}, supportsDevice() {}, apiVersion: 7, name: 'ONNX', version: '' })).rejects.toThrow(/API version 7/);
    await expect(r.register(createMockBackend({ name: 'TFLITE', initError: 'nope' }))).rejects.toThrow('TFLITE failed to initialise: nope');
    expect(r.list()).toEqual([b]);
    // After the failed init, TFLITE can be registered again.
    const ok = createMockBackend({ name: 'TFLITE' });
    await r.register(ok);
    expect(r.list()).toEqual([b, ok]);
  });

  it('dispose frees every backend and forgets them', async () => {
    const r = registry();
    const a = createMockBackend({ name: 'ONNX' });
    const t = createMockBackend({ name: 'TORCH' });
    await r.register(a);
    await r.register(t);
    await r.dispose();
    expect([a.disposeCalls, t.disposeCalls]).toEqual([1, 1]);
    expect(r.list()).toEqual([]);
  });

  it('checkBackend accepts the mock and names what is wrong otherwise', () => {
    expect(checkBackend(createMockBackend())).toBeDefined();
    expect(() => checkBackend(undefined)).toThrow(BackendLoadError);
    expect(() => checkBackend(createMockBackend({ name: 'ONNX' }), 'TF')).toThrow('this is a ONNX backend, not TF');
  });

  it('resolveBackend: a file that exists wins over a package of the same name', () => {
    const n = uniq('both');
    const file = write(`srv/backends/${n}`, backendSource());
    writePackage(`srv/backends/node_modules/${n}`, {}, { 'index.js': backendSource() });
    expect(resolveBackend(n, backendsPath)).toBe(file);
  });
});

describe('Engine backend errors use the catalog texts', () => {
  const engine = (log = memoryLogger(), backendPackages?: Partial<Record<BackendName, string>>) =>
    new Engine({
      keyspace: new MemoryKeyspace({ activeExpiryMs: 0 }),
      config: { backendsPath, threadsPerQueue: 3 },
      log,
      ...(backendPackages ? { backendPackages } : {}),
    });

  it('loadBackend: ERR error loading backend, the reason in the log; success logged', async () => {
    const log = memoryLogger();
    const e = engine(log);
    const err = await e.loadBackend('ONNX', 'nothing-here').catch((x: unknown) => x);
    expect(RespaiError.isInstance(err)).toBe(true);
    expect((err as Error).message).toBe('ERR error loading backend');
    expect((err as Error).cause).toBeInstanceOf(BackendLoadError);
    expect(log.entries.at(-1)).toMatchObject({ level: 'warn', fields: { backend: 'ONNX', path: 'nothing-here' } });
    expect(String(log.entries.at(-1)?.fields?.['reason'])).toMatch(/not found/);

    const file = write(`engine/${uniq('onnx')}.mjs`, backendSource());
    const b = (await e.loadBackend('ONNX', file)) as Counted;
    expect(b.settings?.threadsPerQueue).toBe(3);
    expect(log.entries.at(-1)).toMatchObject({ level: 'info', fields: { backend: 'ONNX', version: '1.2.3' } });
    await expect(e.loadBackend('ONNX', file)).rejects.toThrow(new RespaiError('ERR error loading backend'));
  });

  it('a lazy load that fails: ERR Could not load backend, for the command that needed it', async () => {
    const log = memoryLogger();
    const e = engine(log, { TORCH: 'not-installed' });
    await expect(e.backend('TORCH')).rejects.toThrow(new RespaiError('ERR Could not load backend'));
    await expect(e.storeModel('m', mockModelSpec({ op: 'identity' }, { backend: 'TORCH' }))).rejects.toThrow(new RespaiError('ERR Could not load backend'));
    expect(e.keyspace.has('m')).toBe(false);
    expect(log.entries.some((x) => x.level === 'warn' && x.msg === 'could not load backend')).toBe(true);
  });

  it('a model store loads its backend lazily from the configured package', async () => {
    const p = uniq('lazy-engine');
    writePackage(`srv/backends/node_modules/${p}`, {}, { 'index.js': backendSource({ name: 'TORCH' }) });
    const e = engine(memoryLogger(), { TORCH: p });
    await e.storeModel('m', mockModelSpec({ op: 'identity' }, { backend: 'TORCH' }));
    expect(e.model('m').meta.inputs).toEqual(['x']);
    expect(e.registry.peek('TORCH')?.name).toBe('TORCH');
  });
});
