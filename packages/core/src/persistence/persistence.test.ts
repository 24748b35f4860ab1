import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BACKEND_API_VERSION, type Backend, type LoadedScript } from '../backend/spi.js';
import { Engine } from '../engine/engine.js';
import { MemoryKeyspace } from '../keyspace/memory.js';
import type { Keyspace, Value } from '../keyspace/keyspace.js';
import { Tensor } from '../tensor/index.js';
import { createMockBackend, mockModelSpec, silentLogger, tensor, tensorDiff } from '../testing/index.js';
import {
  DurableKeyspace,
  FRAME_OVERHEAD,
  HEADER_SIZE,
  Persistence,
  PersistenceLoadError,
  checkFile,
  crc32,
  decodeRecord,
  encodeMutation,
  scanFile,
  shellQuote,
  type FsyncPolicy,
  type PersistenceConfig,
} from './index.js';
import { RDB_OPCODE, RDB_TYPE, RdbWriter, crc64Bytes, crc64Start, crc64Update, writeHash, writeList } from './rdb/index.js';

/** A TORCH backend that "compiles" any source: its functions are the `def name(` in it. */
function fakeTorch(): Backend & { loads: number } {
  const b = {
    apiVersion: BACKEND_API_VERSION,
    name: 'TORCH' as const,
    version: 'fake',
    loads: 0,
    supportsDevice: () => true,
    loadModel: () => Promise.reject(new Error('no models here')),
    async loadScript(req: { source: string }): Promise<LoadedScript> {
      b.loads++;
      const functions = [...req.source.matchAll(/def (\w+)\(/g)].map((m) => m[1]!);
      return { functions, signature: () => ['Tensor'], run: async () => [], dispose: () => undefined };
    },
  };
  return b;
}

interface Node {
  engine: Engine;
  inner: MemoryKeyspace;
  ks: DurableKeyspace;
  p: Persistence;
  cfg: { -readonly [K in keyof PersistenceConfig]: PersistenceConfig[K] };
  logs: string[];
  mock: ReturnType<typeof createMockBackend>;
  torch: ReturnType<typeof fakeTorch>;
  close(): Promise<void>;
}

let dir: string;
const nodes: Node[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'respai-persist-'));
});
afterEach(async () => {
  for (const n of nodes.splice(0)) await n.close();
  rmSync(dir, { recursive: true, force: true });
});

/** An engine + durable keyspace + persistence over `dir`, like a server process. */
async function node(over: Partial<PersistenceConfig> = {}, opts: { backends?: boolean; chunk?: number } = {}): Promise<Node> {
  const inner = new MemoryKeyspace({ activeExpiryMs: 0 });
  const ks = new DurableKeyspace(inner);
  const engine = new Engine({ keyspace: ks, log: silentLogger, config: { backendsPath: dir, modelChunkSize: opts.chunk ?? 1 << 20 } });
  const mock = createMockBackend();
  const torch = fakeTorch();
  if (opts.backends !== false) {
    await engine.registry.register(mock);
    await engine.registry.register(torch);
  }
  const cfg = {
    dir,
    dbfilename: 'dump.rdb',
    appendonly: false,
    appendfilename: 'appendonly.respai',
    appendfsync: 'everysec' as FsyncPolicy,
    autoAofRewritePercentage: 0,
    autoAofRewriteMinSize: 64 << 20,
    save: [],
    ...over,
  };
  const logs: string[] = [];
  const log = (level: string) => (msg: string, fields?: Record<string, unknown>) => logs.push(`${level} ${msg} ${fields ? JSON.stringify(fields) : ''}`);
  const p = new Persistence({ keyspace: ks, engine, config: () => cfg, log: { info: log('info'), warn: log('warn'), error: log('error') } });
  const n: Node = {
    engine,
    inner,
    ks,
    p,
    cfg,
    logs,
    mock,
    torch,
    async close() {
      try {
        p.shutdown(false);
      } catch {
        /* a test may have broken the files on purpose */
      }
      await engine.close();
      inner.close();
    },
  };
  nodes.push(n);
  return n;
}

const FLOATS = Tensor.fromValues('FLOAT', [2, 2], ['1.5', '-2', '3.25', '1e-3'].map((s) => Buffer.from(s)));

/** Every value type, a TTL, a binary key; models through the mock backend, a script through the fake TORCH. */
async function fill(n: Node): Promise<void> {
  const { ks, engine } = n;
  ks.set('str', { type: 'string', value: Buffer.from('hello') });
  ks.set('empty', { type: 'string', value: Buffer.alloc(0) });
  ks.set('bin\x00\xff\r\n', { type: 'string', value: Buffer.from([0, 1, 2, 255]) });
  ks.set('ttl', { type: 'string', value: Buffer.from('soon') }, { expireAt: Date.now() + 3_600_000 });
  ks.set('t:float', { type: 'tensor', value: FLOATS });
  ks.set('t:int64', { type: 'tensor', value: tensor('INT64', [3], [-(2n ** 63n), 0n, 2n ** 63n - 1n]) });
  ks.set('t:bool', { type: 'tensor', value: tensor('BOOL', [2], [1, 0]) });
  ks.set('t:string', { type: 'tensor', value: tensor('STRING', [2], ['abc', '']) });
  ks.set('t:scalar', { type: 'tensor', value: tensor('DOUBLE', [], [Math.PI]) });
  ks.set('t:big', { type: 'tensor', value: Tensor.fromBlob('UINT8', [100_000], Buffer.alloc(100_000, 7)) });
  await engine.storeModel('m', mockModelSpec({ op: 'add' }, { tag: Buffer.from('v1'), batchSize: 4, minBatchSize: 2, minBatchTimeout: 10 }));
  await engine.storeScript('s', { device: { type: 'CPU', index: undefined, name: 'CPU' }, tag: Buffer.from('st'), entryPoints: ['bar'], source: 'def bar(a):\n  return a\n' });
  ks.setExpiry('m', Date.now() + 7_200_000);
}

/** A comparable picture of a keyspace: every key's type, content and expiry. */
function picture(ks: Keyspace): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of ks.keys()) {
    const v = ks.get(k) as Value;
    const exp = ks.expiryOf(k) ?? 0;
    switch (v.type) {
      case 'string':
        out[k] = { string: v.value.toString('hex'), exp };
        break;
      case 'tensor':
        out[k] = { dtype: v.value.dtype, shape: [...v.value.shape], data: v.value.data.toString('hex'), exp };
        break;
      case 'model': {
        const m = v.value.meta;
        out[k] = { model: { ...m, tag: m.tag.toString(), device: m.device.name }, blob: v.value.blob.toString('hex'), exp };
        break;
      }
      case 'script':
        out[k] = { script: v.value.source, tag: v.value.meta.tag.toString(), eps: v.value.meta.entryPoints, device: v.value.meta.device.name, exp };
        break;
    }
  }
  return out;
}

describe('crc32', () => {
  it('matches the standard check value and continues across pieces', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32(Buffer.alloc(0))).toBe(0);
    const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 31) & 0xff));
    expect(crc32(data.subarray(300), crc32(data.subarray(0, 300)))).toBe(crc32(data));
    const z = (zlib as unknown as { crc32?: (b: Buffer) => number }).crc32;
    if (z !== undefined) expect(crc32(data)).toBe(z(data));
  });
});

describe('record format', () => {
  it('round-trips every mutation type through encode/decode', () => {
    const body = (f: ReturnType<typeof encodeMutation>) => Buffer.concat(f.parts).subarray(12, -4);
    expect(decodeRecord(body(encodeMutation({ op: 'del', key: 'k\xff' }, 10)))).toEqual({ op: 'del', key: 'k\xff' });
    expect(decodeRecord(body(encodeMutation({ op: 'expire', key: 'k', expireAt: 2 ** 52 }, 10)))).toEqual({ op: 'expire', key: 'k', expireAt: 2 ** 52 });
    expect(decodeRecord(body(encodeMutation({ op: 'rename', from: 'a', to: 'b' }, 10)))).toEqual({ op: 'rename', from: 'a', to: 'b' });
    expect(decodeRecord(body(encodeMutation({ op: 'clear' }, 10)))).toEqual({ op: 'clear' });
    const f = encodeMutation({ op: 'set', key: 't', value: { type: 'tensor', value: FLOATS }, expireAt: 5 }, 10);
    expect(f.bytes).toBe(Buffer.concat(f.parts).length);
    const r = decodeRecord(body(f));
    expect(r.op === 'set' && r.value.type === 'tensor' && tensorDiff(r.value.value, FLOATS)).toBeUndefined();
  });

  it('does not copy large payloads when encoding', () => {
    const big = Buffer.alloc(10_000, 1);
    const f = encodeMutation({ op: 'set', key: 'k', value: { type: 'string', value: big }, expireAt: 0 }, 10);
    expect(f.parts).toContain(big);
  });
});

describe('snapshot round trip', () => {
  it('SAVE then a fresh load restores every value type, TTLs included', async () => {
    const a = await node();
    await a.p.load();
    await fill(a);
    a.p.save();
    const before = picture(a.ks);
    expect(Object.keys(before)).toHaveLength(12);

    const b = await node();
    const report = await b.p.load();
    expect(report).toMatchObject({ source: 'snapshot', keys: 12 });
    expect(picture(b.ks)).toEqual(before);
    // The model came back through its backend, and runs.
    expect(b.mock.models).toHaveLength(1);
    expect(b.torch.loads).toBe(1);
    const out = await b.ks.getTyped('m', 'model')!.handle.run([FLOATS, FLOATS], { slot: 0 });
    expect(tensorDiff(out[0]!, tensor('FLOAT', [2, 2], [3, -4, 6.5, 0.002]))).toBeUndefined();
  });

  it('writes models in MODEL_CHUNK_SIZE chunks and joins them at load', async () => {
    const a = await node({}, { chunk: 7 });
    await a.p.load();
    await a.engine.storeModel('m', mockModelSpec({ op: 'identity', inputs: ['in_with_a_long_name'] }));
    a.p.save();
    const blob = a.ks.getTyped('m', 'model')!.blob;
    // u64 total + u32 count + one u64 length per 7-byte chunk.
    const chunks = Math.ceil(blob.length / 7);
    expect(chunks).toBeGreaterThan(3);
    const b = await node();
    await b.p.load();
    expect(b.ks.getTyped('m', 'model')!.blob.equals(blob)).toBe(true);
  });

  it('BGSAVE writes the keyspace as it was when it started', async () => {
    const a = await node();
    await a.p.load();
    for (let i = 0; i < 2000; i++) a.ks.set(`k${i}`, { type: 'string', value: Buffer.from(String(i)) });
    const done = a.p.bgsave();
    expect(a.p.bgsaveInProgress).toBe(true);
    expect(() => a.p.bgsave()).toThrow('ERR Background save already in progress');
    expect(() => a.p.save()).toThrow('ERR Background save already in progress');
    a.ks.set('later', { type: 'string', value: Buffer.from('x') });
    a.ks.delete('k0');
    a.ks.set('k1', { type: 'string', value: Buffer.from('changed') });
    await done;
    expect(a.p.bgsaveInProgress).toBe(false);
    expect(a.p.dirty).toBe(3);
    const b = await node();
    await b.p.load();
    expect(b.ks.size).toBe(2000);
    expect(b.ks.has('later')).toBe(false);
    expect(b.ks.getTyped('k1', 'string')!.toString()).toBe('1');
  });

  it('a failed or cancelled save leaves the previous snapshot and no temp file', async () => {
    const a = await node();
    await a.p.load();
    a.ks.set('v', { type: 'string', value: Buffer.from('1') });
    a.p.save();
    const old = readFileSync(join(dir, 'dump.rdb'));
    a.ks.set('v', { type: 'string', value: Buffer.from('2') });
    const bg = a.p.bgsave();
    a.p.shutdown(false); // cancels the background save before its rename
    await bg;
    expect(readFileSync(join(dir, 'dump.rdb')).equals(old)).toBe(true);
    expect(readdirSync(dir).filter((f) => f.startsWith('temp-'))).toEqual([]);
  });

  it('expired keys are not loaded', async () => {
    const a = await node();
    await a.p.load();
    a.ks.set('gone', { type: 'string', value: Buffer.from('x') }, { expireAt: Date.now() + 30 });
    a.ks.set('kept', { type: 'string', value: Buffer.from('y') });
    a.p.save();
    await new Promise((r) => setTimeout(r, 50));
    const b = await node();
    expect(await b.p.load()).toMatchObject({ keys: 1, expired: 1 });
    expect([...b.ks.keys()]).toEqual(['kept']);
  });

  it('refuses a snapshot with a flipped byte, or cut short', async () => {
    const a = await node();
    await a.p.load();
    await fill(a);
    a.p.save();
    const path = join(dir, 'dump.rdb');
    const good = readFileSync(path);
    const bad = Buffer.from(good);
    bad[Math.floor(bad.length / 2)]! ^= 0x10;
    writeFileSync(path, bad);
    await expect((await node()).p.load()).rejects.toThrow(/Bad file format reading the snapshot .*(Wrong RDB checksum|bad)/);
    writeFileSync(path, good.subarray(0, good.length - 3));
    await expect((await node()).p.load()).rejects.toThrow(/unexpected end of file/);
    expect(checkFile(path, true)).toMatchObject({ exitCode: 1, removed: 0 });
    writeFileSync(path, good);
    const ok = checkFile(path, false);
    expect(ok.exitCode).toBe(0);
    expect(ok.lines.join('\n')).toMatch(/12 keys \(string: 4, tensor: 6, model: 1, script: 1\), 2 with an expiry\nChecksum OK/);
  });

  it('refuses to start when a stored model cannot be re-created, naming the key', async () => {
    const a = await node();
    await a.p.load();
    await a.engine.storeModel('my model', mockModelSpec({ op: 'add' }));
    a.p.save();
    const b = await node({}, { backends: false });
    await expect(b.p.load()).rejects.toThrow(/Cannot load .*cannot re-create the model \(ONNX CPU\) at key 'my model'/);
  });

  it('loads a backend lazily when a stored model needs it', async () => {
    const pkg = join(dir, 'node_modules', 'lazy-onnx');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(pkg, { recursive: true });
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'lazy-onnx', type: 'module', main: 'index.js' }));
    writeFileSync(join(pkg, 'index.js'), `export { default } from ${JSON.stringify(join(pkg, 'impl.js'))};\n`);
    // A tiny backend package the registry finds under BACKENDSPATH, as it would find @respai/backend-onnx.
    writeFileSync(
      join(pkg, 'impl.js'),
      `export default { apiVersion: ${BACKEND_API_VERSION}, name: 'ONNX', version: 'lazy', supportsDevice: () => true,
        async loadModel() { return { inputs: [{ name: 'a' }], outputs: [{ name: 'b' }], run: async (x) => x, dispose() {} }; } };\n`,
    );
    const a = await node();
    await a.p.load();
    await a.engine.storeModel('m', mockModelSpec({ op: 'identity' }));
    a.p.save();
    const inner = new MemoryKeyspace({ activeExpiryMs: 0 });
    const ks = new DurableKeyspace(inner);
    const engine = new Engine({ keyspace: ks, log: silentLogger, config: { backendsPath: dir }, backendPackages: { ONNX: 'lazy-onnx' } });
    const p = new Persistence({
      keyspace: ks,
      engine,
      config: () => ({ ...a.cfg }),
      log: { info() {}, warn() {}, error() {} },
    });
    await p.load();
    expect(engine.registry.peek('ONNX')?.version).toBe('lazy');
    expect(ks.getTyped('m', 'model')!.meta.inputs).toEqual(['a']);
    p.shutdown(false);
    await engine.close();
  });
});

describe('append-only file', () => {
  async function aofNode(over: Partial<PersistenceConfig> = {}) {
    const n = await node({ appendonly: true, ...over });
    await n.p.load();
    return n;
  }
  const aofPath = () => join(dir, 'appendonly.respai');

  it('replays every kind of mutation to the same keyspace', async () => {
    const a = await aofNode();
    await fill(a);
    const { ks } = a;
    ks.set('x', { type: 'string', value: Buffer.from('1') }, { expireAt: Date.now() + 100_000 });
    ks.set('x', { type: 'string', value: Buffer.from('2') }, { keepTtl: true });
    ks.rename('x', 'y');
    ks.setExpiry('str', undefined);
    ks.setExpiry('empty', Date.now() - 1); // deletes
    ks.delete('t:bool');
    ks.set('tmp', { type: 'string', value: Buffer.from('t') });
    ks.rename('tmp', 'str'); // overwrites
    const before = picture(ks);
    a.p.shutdown(false);

    const b = await node({ appendonly: true });
    expect(await b.p.load()).toMatchObject({ source: 'aof', truncatedBytes: 0 });
    expect(picture(b.ks)).toEqual(before);
    expect(b.ks.ttl('y')).toBeGreaterThan(90_000);

    b.ks.clear();
    b.ks.set('after', { type: 'string', value: Buffer.from('clear') });
    b.p.shutdown(false);
    const c = await node({ appendonly: true });
    await c.p.load();
    expect([...c.ks.keys()]).toEqual(['after']);
  });

  it('prefers the AOF over the snapshot, and creates the AOF from the snapshot when missing', async () => {
    const a = await node();
    await a.p.load();
    a.ks.set('from-snapshot', { type: 'string', value: Buffer.from('1') });
    a.p.save();
    a.p.shutdown(false);
    expect(existsSync(aofPath())).toBe(false);
    const b = await aofNode();
    expect(b.ks.has('from-snapshot')).toBe(true);
    expect(scanFile(aofPath())).toMatchObject({ kind: 'aof', records: 1 });
    b.ks.set('from-aof', { type: 'string', value: Buffer.from('2') });
    b.p.shutdown(false);
    const c = await aofNode();
    expect([...c.ks.keys()].sort()).toEqual(['from-aof', 'from-snapshot']);
  });

  it('loads a truncated tail up to the last complete record, with a warning, and cuts it off', async () => {
    const a = await aofNode();
    for (let i = 0; i < 10; i++) a.ks.set(`k${i}`, { type: 'tensor', value: FLOATS });
    a.p.shutdown(false);
    const size = statSync(aofPath()).size;
    truncateSync(aofPath(), size - 5);
    const b = await node({ appendonly: true });
    const r = await b.p.load();
    expect(r.truncatedBytes).toBeGreaterThan(0);
    expect(b.ks.size).toBe(9);
    expect(b.logs.join('\n')).toMatch(/warn The append only file .* ends with an incomplete record/);
    // The torn tail is gone, so what is appended now follows a complete record.
    b.ks.set('new', { type: 'string', value: Buffer.from('n') });
    b.p.shutdown(false);
    const c = await aofNode();
    expect(c.ks.size).toBe(10);
    expect(c.ks.has('new')).toBe(true);
  });

  it('treats a zero-filled tail (a crash before the data reached the disk) as truncation', async () => {
    const a = await aofNode();
    a.ks.set('k', { type: 'string', value: Buffer.from('v') });
    a.p.shutdown(false);
    writeFileSync(aofPath(), Buffer.concat([readFileSync(aofPath()), Buffer.alloc(4096)]));
    const b = await aofNode();
    expect(b.ks.has('k')).toBe(true);
    expect(b.p.lastLoad?.truncatedBytes).toBe(4096);
  });

  it('refuses a corrupt AOF naming respai-check-aof --fix, which then makes it load', async () => {
    const a = await aofNode();
    for (let i = 0; i < 10; i++) a.ks.set(`k${i}`, { type: 'string', value: Buffer.alloc(100, i) });
    a.p.shutdown(false);
    const bytes = readFileSync(aofPath());
    const recordSize = FRAME_OVERHEAD + 1 + 4 + 2 + 8 + 1 + 8 + 100;
    expect(bytes.length).toBe(HEADER_SIZE + 10 * recordSize);
    bytes[HEADER_SIZE + 4 * recordSize + 50]! ^= 0x01; // inside record 5's payload
    writeFileSync(aofPath(), bytes);
    const err = await (await node({ appendonly: true })).p.load().then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err).toBeInstanceOf(PersistenceLoadError);
    expect(err!.message).toContain(`record checksum mismatch at offset ${HEADER_SIZE + 4 * recordSize} (record 5)`);
    expect(err!.message).toContain(`respai-check-aof --fix ${aofPath()}`);

    const check = checkFile(aofPath(), false);
    expect(check.exitCode).toBe(1);
    expect(check.lines.join('\n')).toContain(`last valid offset ${HEADER_SIZE + 4 * recordSize}`);
    const fixed = checkFile(aofPath(), true);
    expect(fixed.exitCode).toBe(0);
    expect(fixed.removed).toBe(6 * recordSize);
    const b = await aofNode();
    expect([...b.ks.keys()]).toEqual(['k0', 'k1', 'k2', 'k3']);
  });

  it('refuses a damaged record header and a damaged file header', async () => {
    const a = await aofNode();
    a.ks.set('a', { type: 'string', value: Buffer.from('1') });
    a.ks.set('b', { type: 'string', value: Buffer.from('2') });
    a.p.shutdown(false);
    const good = readFileSync(aofPath());
    const bad = Buffer.from(good);
    bad[HEADER_SIZE + 2]! ^= 0xff; // length field of record 1
    writeFileSync(aofPath(), bad);
    expect(scanFile(aofPath()).problem).toMatchObject({ type: 'corrupt', reason: 'record header checksum mismatch', record: 1 });
    const h = Buffer.from(good);
    h[9]! ^= 1; // version
    writeFileSync(aofPath(), h);
    expect(scanFile(aofPath()).problem).toMatchObject({ type: 'corrupt', offset: 0, reason: 'header checksum mismatch' });
    await expect((await node({ appendonly: true })).p.load()).rejects.toThrow(/respai-check-aof --fix/);
  });

  it('appendfsync always: barrier resolves only after the records are on disk', async () => {
    const a = await aofNode({ appendfsync: 'always' });
    expect(a.p.barrier()).toBeUndefined();
    const before = statSync(aofPath()).size;
    a.ks.set('k', { type: 'tensor', value: FLOATS });
    const wait = a.p.barrier();
    expect(wait).toBeInstanceOf(Promise);
    expect(statSync(aofPath()).size).toBe(before); // not even written yet: batched to the end of the turn
    await wait;
    expect(statSync(aofPath()).size).toBeGreaterThan(before);
    expect(a.p.info()).toMatchObject({ aof_fsyncs: 1, aof_enabled: 1 });
    expect(a.p.barrier()).toBeUndefined();
    // Many writes in one turn share one fsync.
    const waits = [];
    for (let i = 0; i < 100; i++) {
      a.ks.set(`k${i}`, { type: 'tensor', value: FLOATS });
      waits.push(a.p.barrier());
    }
    await Promise.all(waits);
    expect(a.p.info().aof_fsyncs).toBeLessThanOrEqual(3);
  });

  it('everysec: records are written to the file before replies (barrier), fsynced later', async () => {
    const a = await aofNode({ appendfsync: 'everysec' });
    const before = statSync(aofPath()).size;
    a.ks.set('k', { type: 'string', value: Buffer.from('v') });
    expect(a.p.barrier()).toBeUndefined();
    expect(statSync(aofPath()).size).toBeGreaterThan(before);
  });

  it('BGREWRITEAOF compacts the log and keeps what is written meanwhile', async () => {
    const a = await aofNode({ appendfsync: 'always' });
    for (let i = 0; i < 50; i++) for (let j = 0; j < 20; j++) a.ks.set(`k${i}`, { type: 'string', value: Buffer.from(`${i}-${j}`) });
    await Promise.all([a.p.barrier()]);
    const grown = statSync(aofPath()).size;
    const rw = a.p.bgrewriteaof();
    expect(() => a.p.bgrewriteaof()).toThrow('ERR Background append only file rewriting already in progress');
    a.ks.set('during', { type: 'tensor', value: FLOATS });
    a.ks.delete('k3');
    const acked = a.p.barrier();
    await rw;
    await acked;
    a.ks.set('after', { type: 'string', value: Buffer.from('a') });
    await a.p.barrier();
    expect(statSync(aofPath()).size).toBeLessThan(grown / 5);
    expect(a.p.info()).toMatchObject({ aof_rewrites: 1, aof_rewrite_in_progress: 0 });
    const before = picture(a.ks);
    a.p.shutdown(false);
    const b = await aofNode();
    expect(picture(b.ks)).toEqual(before);
    expect(b.ks.has('k3')).toBe(false);
    expect(readdirSync(dir).filter((f) => f.startsWith('temp-'))).toEqual([]);
  });

  it('rewrites automatically when the file grows past the configured percentage', async () => {
    const a = await aofNode({ autoAofRewritePercentage: 100, autoAofRewriteMinSize: 10_000 });
    for (let i = 0; i < 400; i++) a.ks.set('same', { type: 'string', value: Buffer.alloc(100, i) });
    await a.p.barrier();
    const end = Date.now() + 5000;
    while (a.p.rewrites === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    expect(a.p.rewrites).toBe(1);
    expect(statSync(aofPath()).size).toBeLessThan(1000);
  });

  it('appendonly turned on at runtime starts with a rewrite; off closes the file', async () => {
    const a = await node();
    await a.p.load();
    a.ks.set('before', { type: 'string', value: Buffer.from('b') });
    a.cfg.appendonly = true;
    a.p.configChanged('appendonly');
    a.ks.set('during', { type: 'string', value: Buffer.from('d') });
    const end = Date.now() + 5000;
    while (!a.p.aofOpen && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    a.ks.set('after', { type: 'string', value: Buffer.from('a') });
    a.cfg.appendonly = false;
    a.p.configChanged('appendonly');
    expect(a.p.aofOpen).toBe(false);
    a.ks.set('not-logged', { type: 'string', value: Buffer.from('x') });
    const b = await aofNode();
    expect([...b.ks.keys()].sort()).toEqual(['after', 'before', 'during']);
  });

  it('SHUTDOWN-style save writes the snapshot only when asked or when save points exist', async () => {
    const a = await node({ save: [] });
    await a.p.load();
    a.ks.set('k', { type: 'string', value: Buffer.from('v') });
    a.p.shutdown(undefined);
    expect(existsSync(join(dir, 'dump.rdb'))).toBe(false);
    const b = await node({ save: [{ seconds: 3600, changes: 1 }] });
    await b.p.load();
    b.ks.set('k', { type: 'string', value: Buffer.from('v') });
    b.p.shutdown(undefined);
    expect(existsSync(join(dir, 'dump.rdb'))).toBe(true);
  });
});

describe('RDB snapshots', () => {
  const rdb = () => join(dir, 'dump.rdb');

  it('are RDB files of version 10 with Redis\'s AUX fields, SELECTDB, RESIZEDB, expiries, EOF and checksum', async () => {
    const a = await node();
    await a.p.load();
    a.ks.set('k', { type: 'string', value: Buffer.from('v') });
    a.ks.set('t', { type: 'string', value: Buffer.from('w') }, { expireAt: 4_000_000_000_000 });
    a.p.save();
    const b = readFileSync(rdb());
    expect(b.subarray(0, 9).toString()).toBe('REDIS0010');
    const text = b.toString('latin1');
    for (const aux of ['redis-ver', 'redis-bits', 'ctime', 'used-mem', 'aof-base']) expect(text).toContain(aux);
    // SELECTDB 0, RESIZEDB 2 1, then the key with an expiry: EXPIRETIME_MS + 8 bytes, type 0, key.
    expect(text).toContain('\xfe\x00\xfb\x02\x01');
    const ms = Buffer.alloc(8);
    ms.writeBigInt64LE(4_000_000_000_000n);
    expect(b.includes(Buffer.concat([Buffer.from([0xfc]), ms, Buffer.from([0x00, 0x01, 0x74, 0x01, 0x77])]))).toBe(true);
    expect(b[b.length - 9]).toBe(0xff);
    expect(b.subarray(b.length - 8).toString('hex')).toBe(crc64Bytes(crc64Update(crc64Start(), b.subarray(0, b.length - 8))).toString('hex'));
  });

  it('an empty keyspace is a header, AUX fields and EOF', async () => {
    const a = await node();
    await a.p.load();
    a.p.save();
    const b = await node();
    expect(await b.p.load()).toMatchObject({ source: 'snapshot', format: 'rdb', keys: 0 });
    // Walked opcode by opcode: the AUX values and the checksum may hold any byte, 0xFE included.
    const ops = rdbOpcodes(readFileSync(rdb()));
    expect(ops.at(-1)).toBe(0xff);
    expect(ops.slice(0, -1).every((op) => op === 0xfa)).toBe(true);
  });

  it('a respai-format snapshot (dump.respai) is loaded when dump.rdb is absent, and converted once', async () => {
    const a = await node();
    await a.p.load();
    await fill(a);
    const before = picture(a.ks);
    const { fileBatches, captureEntries } = await import('./snapshot.js');
    writeFileSync(join(dir, 'dump.respai'), Buffer.concat([...fileBatches('snapshot', captureEntries(a.inner), 1 << 20)].flat()));
    const b = await node();
    expect(await b.p.load()).toMatchObject({ source: 'snapshot', format: 'respai', path: join(dir, 'dump.respai'), keys: 12 });
    expect(picture(b.ks)).toEqual(before);
    expect(b.logs.join('\n')).toMatch(/Converted the respai-format snapshot '.*dump.respai' to the RDB file '.*dump.rdb' \(12 keys\)/);
    expect(readFileSync(rdb()).subarray(0, 5).toString()).toBe('REDIS');
    const c = await node();
    expect(await c.p.load()).toMatchObject({ format: 'rdb', path: rdb(), keys: 12 });
    expect(picture(c.ks)).toEqual(before);
    // Configured by name, a respai-format file loads too (and later saves write RDB there).
    const d = await node({ dbfilename: 'dump.respai' });
    expect(await d.p.load()).toMatchObject({ format: 'respai', keys: 12 });
    expect(d.logs.join('\n')).toMatch(/snapshot in respai's format of before/);
  });

  it('refuses a file that is neither, naming dbfilename', async () => {
    writeFileSync(rdb(), 'hello world');
    await expect((await node()).p.load()).rejects.toThrow(/neither an RDB file nor a respai snapshot .*check dbfilename/);
  });

  /** An RDB file with a list, a hash, a set and a key in database 1, besides a string. */
  function foreignRdb(): Buffer {
    const w = new RdbWriter();
    w.raw(Buffer.from('REDIS0010'));
    w.u8(RDB_OPCODE.SELECTDB).len(0);
    w.u8(RDB_TYPE.STRING).string(Buffer.from('s')).string(Buffer.from('kept'));
    writeList(w, [Buffer.from('a'), Buffer.from('b')], Buffer.from('mylist'));
    writeHash(w, [[Buffer.from('f'), Buffer.from('v')]], Buffer.from('myhash'));
    w.u8(RDB_TYPE.SET).string(Buffer.from('myset')).len(2).string(Buffer.from('x')).string(Buffer.from('y'));
    w.u8(RDB_TYPE.SET).string(Buffer.from('myset2')).len(1).string(Buffer.from('x'));
    w.u8(RDB_OPCODE.SELECTDB).len(1);
    w.u8(RDB_TYPE.STRING).string(Buffer.from('other-db')).string(Buffer.from('x'));
    w.u8(RDB_OPCODE.EOF);
    const body = w.toBuffer();
    return Buffer.concat([body, crc64Bytes(crc64Update(crc64Start(), body))]);
  }

  it('lists and hashes load; values of types respai does not hold stop the start, naming the key, its type and the option', async () => {
    writeFileSync(rdb(), foreignRdb());
    const err = await (await node()).p.load().then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err).toBeInstanceOf(PersistenceLoadError);
    expect(err!.message).toBe(
      `Cannot load '${rdb()}': it holds the key 'myset' of type set, which respai does not hold. ` +
        'To start without such keys, set rdb-skip-unsupported-types yes (--rdb-skip-unsupported-types yes): they are then skipped, ' +
        'counted per type in a warning, and gone from the next snapshot.',
    );
  });

  it('with rdb-skip-unsupported-types they are skipped, counted per type in a warning', async () => {
    writeFileSync(rdb(), foreignRdb());
    const a = await node({ rdbSkipUnsupportedTypes: true });
    expect(await a.p.load()).toMatchObject({ keys: 3, skipped: { set: 2, 'database 1': 1 } });
    expect([...a.ks.keys()]).toEqual(['s', 'mylist', 'myhash']);
    expect(a.ks.getTyped('mylist', 'list')!.toArray().map(String)).toEqual(['a', 'b']);
    expect(String(a.ks.getTyped('myhash', 'hash')!.get('f'))).toBe('v');
    expect(a.logs.join('\n')).toMatch(
      /warn Skipped 3 keys of '.*dump.rdb' that respai does not hold \(rdb-skip-unsupported-types yes\): set: 2, database 1: 1; for example 'myset' \(set\)/,
    );
  });

  it('INFO reports loading:1 and the loading_* fields while an RDB file loads', async () => {
    const a = await node();
    await a.p.load();
    for (let i = 0; i < 50; i++) a.ks.set(`k${i}`, { type: 'string', value: Buffer.alloc(1000, i) });
    a.p.save();
    const inner = new MemoryKeyspace({ activeExpiryMs: 0 });
    const ks = new DurableKeyspace(inner);
    const engine = new Engine({ keyspace: ks, log: silentLogger, config: { backendsPath: dir } });
    const p = new Persistence({ keyspace: ks, engine, config: () => ({ ...a.cfg }), log: { info() {}, warn() {}, error() {} }, loadYieldMs: 0 });
    const seen: Record<string, string | number>[] = [];
    const poll = () => {
      const i = p.info();
      if (i['loading'] === 1) {
        seen.push(i);
        setImmediate(poll);
      }
    };
    const loading = p.load();
    setImmediate(poll);
    await loading;
    p.shutdown(false);
    await engine.close();
    expect(seen.length).toBeGreaterThan(5);
    const mid = seen[Math.floor(seen.length / 2)]!;
    expect(Object.keys(mid).slice(-6)).toEqual(['loading_start_time', 'loading_total_bytes', 'loading_rdb_used_mem', 'loading_loaded_bytes', 'loading_loaded_perc', 'loading_eta_seconds']);
    expect(mid['loading_total_bytes']).toBe(statSync(rdb()).size);
    expect(Number(mid['loading_loaded_bytes'])).toBeGreaterThan(0);
    expect(Number(mid['loading_loaded_bytes'])).toBeLessThan(statSync(rdb()).size);
    expect(Number(mid['loading_rdb_used_mem'])).toBeGreaterThan(0);
    expect(p.info()['loading']).toBe(0);
    expect(p.info()['loading_total_bytes']).toBeUndefined();
  });

  it('rdbcompression no writes strings as they are', async () => {
    const a = await node({ rdbcompression: false });
    await a.p.load();
    a.ks.set('k', { type: 'string', value: Buffer.alloc(1000, 'a') });
    a.p.save();
    expect(statSync(rdb()).size).toBeGreaterThan(1000);
    const b = await node();
    await b.p.load();
    a.cfg.rdbcompression = true;
    a.p.save();
    expect(statSync(rdb()).size).toBeLessThan(300);
  });
});

describe('DEBUG RELOAD', () => {
  it('saves, then loads the snapshot again: the same keyspace, models re-created through their backend', async () => {
    const a = await node();
    await a.p.load();
    await fill(a);
    const before = picture(a.ks);
    const loads = a.mock.models.length;
    const oldModel = a.ks.getTyped('m', 'model')!;
    expect(await a.p.reload()).toMatchObject({ keys: 12, models: 1 });
    expect(picture(a.ks)).toEqual(before);
    expect(a.mock.models.length).toBe(loads + 1);
    expect(a.ks.getTyped('m', 'model')).not.toBe(oldModel);
  });

  it('keys written while it builds keep what was written; keys the file lacks go (unless NOFLUSH)', async () => {
    const a = await node();
    await a.p.load();
    a.ks.set('a', { type: 'string', value: Buffer.from('1') });
    a.ks.set('b', { type: 'string', value: Buffer.from('2') });
    await a.engine.storeModel('m', mockModelSpec({ op: 'add', ms: 0 }));
    a.p.save();
    a.inner.set('only-in-memory', { type: 'string', value: Buffer.from('x') });
    const r = a.p.reload({ save: false });
    a.ks.set('a', { type: 'string', value: Buffer.from('changed meanwhile') });
    await r;
    expect(a.ks.getTyped('a', 'string')!.toString()).toBe('changed meanwhile');
    expect(a.ks.has('only-in-memory')).toBe(false);
    expect([...a.ks.keys()].sort()).toEqual(['a', 'b', 'm']);
    a.inner.set('extra', { type: 'string', value: Buffer.from('x') });
    await a.p.reload({ save: false, flush: false, merge: true });
    expect(a.ks.has('extra')).toBe(true);
    await expect(a.p.reload({ save: false, flush: false })).rejects.toThrow(/the snapshot has the key '(b|m|a)', which is also in memory/);
  });

  it('with the AOF on, the AOF stays what the keyspace is', async () => {
    const a = await node({ appendonly: true });
    await a.p.load();
    await fill(a);
    await a.p.reload();
    a.ks.set('after', { type: 'string', value: Buffer.from('reload') });
    const before = picture(a.ks);
    a.p.shutdown(false);
    const b = await node({ appendonly: true });
    expect(await b.p.load()).toMatchObject({ source: 'aof' });
    expect(picture(b.ks)).toEqual(before);
  });
});

describe('loading creates each model once, from its last record', () => {
  it('an AOF with many MODELSTOREs of one key loads the model once', async () => {
    const a = await node({ appendonly: true });
    await a.p.load();
    for (let i = 0; i < 20; i++) await a.engine.storeModel('m', mockModelSpec({ op: 'add' }, { tag: Buffer.from(`v${i}`) }));
    await a.engine.storeModel('gone', mockModelSpec({ op: 'add' }));
    a.ks.delete('gone');
    a.p.shutdown(false);
    const b = await node({ appendonly: true });
    await b.p.load();
    expect(b.mock.models).toHaveLength(1);
    expect(b.ks.getTyped('m', 'model')!.meta.tag.toString()).toBe('v19');
  });
});

describe('shellQuote (the repair commands the logs suggest)', () => {
  it('leaves plain paths as they are and single-quotes the rest', () => {
    expect(shellQuote('/var/lib/respai/appendonly.respai')).toBe('/var/lib/respai/appendonly.respai');
    expect(shellQuote('/tmp/my dir/it\'s.aof')).toBe("'/tmp/my dir/it'\\''s.aof'");
    expect(shellQuote('$HOME;rm -rf x')).toBe("'$HOME;rm -rf x'");
  });
});

/**
 * The opcodes of an RDB file that holds AUX fields only (no keys), in order, up to EOF: enough of a
 * reader to tell that no SELECTDB (0xFE) or key was written. Throws on anything else.
 */
function rdbOpcodes(b: Buffer): number[] {
  let i = 9; // "REDIS" and the four-digit version
  const skipString = () => {
    const first = b[i]!;
    const kind = first >> 6;
    if (kind === 0) i += 1 + (first & 0x3f);
    else if (kind === 1) i += 2 + (((first & 0x3f) << 8) | b[i + 1]!);
    else if (first === 0x80) i += 5 + b.readUInt32BE(i + 1);
    else if (first === 0x81) i += 9 + Number(b.readBigUInt64BE(i + 1));
    else if (first >= 0xc0 && first <= 0xc2) i += 1 + [1, 2, 4][first - 0xc0]!;
    else throw new Error(`unexpected string encoding 0x${first.toString(16)} at ${i}`);
  };
  const ops: number[] = [];
  while (i < b.length) {
    const op = b[i++]!;
    ops.push(op);
    if (op === 0xff) return ops;
    if (op !== 0xfa) throw new Error(`opcode 0x${op.toString(16)} at ${i - 1}`);
    skipString();
    skipString();
  }
  throw new Error('no EOF opcode');
}
