import { BACKEND_API_VERSION, E, RespaiError, createDump, crc64Bytes, crc64Start, crc64Update, type Backend, type LoadedScript } from '@respai/core';
import { createTestEngine, mockModelSpec, tensor, type TestEngine } from '@respai/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import type { Client } from '../client.js';
import { DEFAULTS } from '../config.js';
import { OK } from '../resp/reply.js';
import { Stats, type ServerState } from '../state.js';
import { dump } from './dump.js';
import { restore } from './restore.js';
import type { ExecContext } from './types.js';
import { args, pctx } from './test-helpers.js';

/** The exact text of the RespaiError `fn` throws or rejects with. */
async function errorOf(fn: () => unknown): Promise<string> {
  try {
    await fn();
  } catch (e) {
    if (RespaiError.isInstance(e)) return e.message;
    throw e;
  }
  throw new Error('expected a RespaiError, nothing was thrown');
}

/** A TORCH backend that "compiles" any source: its functions are the `def name(` in it. */
function fakeTorch(): Backend {
  return {
    apiVersion: BACKEND_API_VERSION,
    name: 'TORCH',
    version: 'fake',
    supportsDevice: () => true,
    loadModel: () => Promise.reject(new Error('no models here')),
    async loadScript(req: { source: string }): Promise<LoadedScript> {
      const functions = [...req.source.matchAll(/def (\w+)\(/g)].map((m) => m[1]!);
      return { functions, signature: () => ['Tensor'], run: async () => [], dispose: () => undefined };
    },
  } as Backend;
}

const engines: TestEngine[] = [];
afterEach(async () => {
  for (const e of engines.splice(0)) await e.close();
});

async function fakeCtx(): Promise<ExecContext & { te: TestEngine }> {
  const te = await createTestEngine();
  await te.engine.registry.register(fakeTorch());
  engines.push(te);
  const log = { debug() {}, info() {}, warn() {} };
  const server = { keyspace: te.keyspace, engine: te.engine, stats: new Stats(), options: { ...DEFAULTS }, log } as unknown as ServerState;
  return { keyspace: te.keyspace, server, client: { id: 1 } as unknown as Client, te };
}

const run = (ctx: ExecContext, ...a: (string | Buffer)[]) => restore.execute(ctx, restore.parse(args(...a), pctx));
const dumpOf = (ctx: ExecContext, key: string) => dump.execute(ctx, dump.parse(args(key), pctx)) as Buffer | null;
const payload = (v: Parameters<typeof createDump>[0]) => createDump(v, { modelChunkSize: 1 << 20 });
const STR = () => payload({ type: 'string', value: Buffer.from('hello') });

describe('RESTORE: parse', () => {
  it('reads the key, the TTL and the options', () => {
    const p = STR();
    expect(restore.parse(args('k', '100', p, 'replace', 'ABSTTL', 'IDLETIME', '5'), pctx)).toEqual({ key: 'k', ttl: 100n, payload: p, replace: true, absttl: true });
    expect(restore.parse(args('k', '0', p, 'FREQ', '255'), pctx)).toMatchObject({ ttl: 0n, replace: false });
    // A TTL that is not an integer is reported later (after BUSYKEY), as Redis does.
    expect(restore.parse(args('k', 'x', p), pctx).ttl).toBeUndefined();
  });
  it('refuses bad options with Redis\'s texts', async () => {
    const p = STR();
    const e = (...a: string[]) => errorOf(() => restore.parse(args('k', '0', p, ...a), pctx));
    expect(await e('FOO')).toBe('ERR syntax error');
    expect(await e('IDLETIME')).toBe('ERR syntax error');
    expect(await e('IDLETIME', 'x')).toBe('ERR value is not an integer or out of range');
    expect(await e('IDLETIME', '-1')).toBe('ERR Invalid IDLETIME value, must be >= 0');
    expect(await e('FREQ', '256')).toBe('ERR Invalid FREQ value, must be >= 0 and <= 255');
    expect(await e('FREQ', '-1')).toBe('ERR Invalid FREQ value, must be >= 0 and <= 255');
    // IDLETIME and FREQ exclude each other.
    expect(await e('IDLETIME', '1', 'FREQ', '1')).toBe('ERR syntax error');
    expect(await e('FREQ', '1', 'IDLETIME', '1')).toBe('ERR syntax error');
  });
});

describe('RESTORE and DUMP', () => {
  it('restore what DUMP gives, for strings and tensors, with the TTL', async () => {
    const ctx = await fakeCtx();
    ctx.keyspace.set('s', { type: 'string', value: Buffer.from('value') });
    ctx.keyspace.set('t', { type: 'tensor', value: tensor('INT32', [2, 1], [1, 2]) });
    expect(await run(ctx, 's2', '0', dumpOf(ctx, 's')!)).toBe(OK);
    expect(ctx.keyspace.getTyped('s2', 'string')!.toString()).toBe('value');
    expect(ctx.keyspace.ttl('s2')).toBe(-1);
    expect(await run(ctx, 't2', '60000', dumpOf(ctx, 't')!)).toBe(OK);
    expect(ctx.keyspace.getTyped('t2', 'tensor')!.values()).toEqual([1, 2]);
    expect(ctx.keyspace.ttl('t2')).toBeGreaterThan(59_000);
    expect(dumpOf(ctx, 'missing')).toBeNull();
  });

  it('errors in Redis\'s order: BUSYKEY, then the TTL, then the payload', async () => {
    const ctx = await fakeCtx();
    ctx.keyspace.set('k', { type: 'string', value: Buffer.from('old') });
    const p = STR();
    expect(await errorOf(() => run(ctx, 'k', 'x', p))).toBe('BUSYKEY Target key name already exists.');
    expect(await errorOf(() => run(ctx, 'new', 'x', p))).toBe('ERR value is not an integer or out of range');
    expect(await errorOf(() => run(ctx, 'new', '-1', p))).toBe('ERR Invalid TTL value, must be >= 0');
    const bad = Buffer.from(p);
    bad[1]! ^= 1;
    expect(await errorOf(() => run(ctx, 'new', '0', bad))).toBe('ERR DUMP payload version or checksum are wrong');
    const v12 = Buffer.from(p);
    v12.writeUInt16LE(12, p.length - 10);
    const body = v12.subarray(0, v12.length - 8);
    expect(await errorOf(() => run(ctx, 'new', '0', Buffer.concat([body, crc64Bytes(crc64Update(crc64Start(), body))])))).toBe(E.dumpPayloadInvalid);
    const garbage = Buffer.concat([Buffer.from([0x63, 0x01, 0x02]), Buffer.from([10, 0])]);
    expect(await errorOf(() => run(ctx, 'new', '0', Buffer.concat([garbage, crc64Bytes(crc64Update(crc64Start(), garbage))])))).toBe('ERR Bad data format');
    expect(ctx.keyspace.has('new')).toBe(false);
    expect(ctx.keyspace.getTyped('k', 'string')!.toString()).toBe('old');
  });

  it('REPLACE replaces any type; ABSTTL takes an absolute time; a past expiry only deletes', async () => {
    const ctx = await fakeCtx();
    ctx.keyspace.set('k', { type: 'tensor', value: tensor('FLOAT', [1], [1]) });
    expect(await run(ctx, 'k', '0', STR(), 'REPLACE')).toBe(OK);
    expect(ctx.keyspace.getTyped('k', 'string')!.toString()).toBe('hello');
    const at = Date.now() + 3_600_000;
    expect(await run(ctx, 'a', String(at), STR(), 'ABSTTL')).toBe(OK);
    expect(ctx.keyspace.expiryOf('a')).toBe(at);
    expect(await run(ctx, 'gone', String(Date.now() - 1000), STR(), 'ABSTTL')).toBe(OK);
    expect(ctx.keyspace.has('gone')).toBe(false);
    expect(await run(ctx, 'k', '1', STR(), 'ABSTTL', 'REPLACE')).toBe(OK);
    expect(ctx.keyspace.has('k')).toBe(false);
  });

  it('restores a model through its backend, like AI.MODELSTORE', async () => {
    const ctx = await fakeCtx();
    await ctx.te.store('m', { op: 'add' }, { tag: Buffer.from('v1'), batchSize: 4 });
    const loads = ctx.te.backend.models.length;
    const p = dumpOf(ctx, 'm')!;
    expect(await run(ctx, 'm2', '0', p)).toBe(OK);
    expect(ctx.te.backend.models.length).toBe(loads + 1);
    const m = ctx.keyspace.getTyped('m2', 'model')!;
    expect([m.meta.backend, m.meta.tag.toString(), m.meta.batchSize, m.meta.inputs]).toEqual(['ONNX', 'v1', 4, ['a', 'b']]);
  });

  it('a model its backend refuses gets the backend\'s error, and nothing is written', async () => {
    const ctx = await fakeCtx();
    ctx.keyspace.set('m', { type: 'string', value: Buffer.from('keep') });
    const { Model } = await import('@respai/core');
    const bogus = new Model(
      { backend: 'ONNX', device: mockModelSpec({ op: 'add' }).device, tag: Buffer.alloc(0), batchSize: 0, minBatchSize: 0, minBatchTimeout: 0, inputs: [], outputs: [] },
      Buffer.from('not a model'),
      { inputs: [], outputs: [], run: async () => [], dispose: () => undefined } as never,
    );
    const p = payload({ type: 'model', value: bogus });
    // The same error AI.MODELSTORE gets for that blob (the client turns it into the reply).
    const direct = await ctx.te.engine.storeModel('x', { ...mockModelSpec({ op: 'add' }), blob: Buffer.from('not a model') }).catch((e: Error) => e);
    const restored = await Promise.resolve()
      .then(() => run(ctx, 'm', '0', p, 'REPLACE'))
      .catch((e: Error) => e);
    expect(restored).toBeInstanceOf(Error);
    expect((restored as Error).message).toBe((direct as Error).message);
    expect(ctx.keyspace.getTyped('m', 'string')!.toString()).toBe('keep');
  });

  it('restores a script through TORCH', async () => {
    const ctx = await fakeCtx();
    const { Script } = await import('@respai/core');
    const s = new Script({ device: mockModelSpec({ op: 'add' }).device, tag: Buffer.from('t'), entryPoints: ['bar'] }, 'def bar(t, k, a):\n  return t[0]\n', {
      functions: ['bar'],
      signature: () => [],
      run: async () => [],
      dispose: () => undefined,
    } as never);
    expect(await run(ctx, 's', '0', payload({ type: 'script', value: s }))).toBe(OK);
    expect(ctx.keyspace.getTyped('s', 'script')!.meta.entryPoints).toEqual(['bar']);
  });

  it('a model loaded while another client created the key is BUSYKEY (without REPLACE)', async () => {
    const ctx = await fakeCtx();
    await ctx.te.store('m', { op: 'add' });
    const p = dumpOf(ctx, 'm')!;
    const pending = run(ctx, 'late', '0', p);
    ctx.keyspace.set('late', { type: 'string', value: Buffer.from('first') });
    expect(await errorOf(() => pending)).toBe('BUSYKEY Target key name already exists.');
    expect(ctx.keyspace.getTyped('late', 'string')!.toString()).toBe('first');
  });

  it('lists and hashes restore; types respai does not hold are refused with a clear text', async () => {
    const ctx = await fakeCtx();
    const { RdbWriter, writeList, writeHash } = await import('@respai/core');
    const seal = (w: InstanceType<typeof RdbWriter>) => {
      const body = Buffer.concat([w.toBuffer(), Buffer.from([10, 0])]);
      return Buffer.concat([body, crc64Bytes(crc64Update(crc64Start(), body))]);
    };
    const l = new RdbWriter();
    writeList(l, [Buffer.from('a'), Buffer.from('12')]);
    expect(await run(ctx, 'l', '0', seal(l))).toBe(OK);
    expect(ctx.keyspace.getTyped('l', 'list')!.toArray().map(String)).toEqual(['a', '12']);
    const h = new RdbWriter();
    writeHash(h, [[Buffer.from('f'), Buffer.from('v')]]);
    expect(await run(ctx, 'h', '0', seal(h))).toBe(OK);
    expect(String(ctx.keyspace.getTyped('h', 'hash')!.get('f'))).toBe('v');
    expect(dumpOf(ctx, 'l')!.equals(seal(((w) => (writeList(w, [Buffer.from('a'), Buffer.from('12')]), w))(new RdbWriter())))).toBe(true);
    const set = new RdbWriter();
    set.u8(2).len(1).string(Buffer.from('x'));
    expect(await errorOf(() => run(ctx, 's', '0', seal(set)))).toBe('ERR Bad data format: the payload holds a set, which respai does not hold');
    const empty = new RdbWriter();
    writeList(empty, []);
    expect(await errorOf(() => run(ctx, 'e', '0', seal(empty)))).toBe('ERR Bad data format');
  });
});
