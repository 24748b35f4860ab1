import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { LoadedModel, LoadedScript } from '../../backend/spi.js';
import { Model } from '../../engine/model.js';
import { Script } from '../../engine/script.js';
import { Tensor } from '../../tensor/index.js';
import { CPU, device, itShared, sharedPath, tensor } from '../../testing/index.js';
import {
  BufferInput,
  DumpVersionError,
  MODULE_OPCODE,
  RDB_TYPE,
  RdbError,
  RdbWriter,
  createDump,
  crc64,
  crc64Bytes,
  crc64Start,
  crc64Update,
  decodeListpack,
  decodeZiplist,
  decodeZipmap,
  encodeListpack,
  lzfCompress,
  lzfDecompress,
  moduleTypeId,
  moduleTypeOf,
  readDump,
  readLenOrEnc,
  readString,
  readValue,
  verifyDump,
  writeHash,
  writeList,
  type RdbValue,
} from './index.js';

const MANIFEST = 'fixtures/redisai-1.2.7/manifest.json';

interface ManifestKey {
  key: string;
  kind: 'tensor' | 'model' | 'script' | 'string';
  redis_type: string;
  dump_hex: string;
  expected: Record<string, unknown>;
  payload_decoded: { module_fields?: { op: string; encoding?: string; len?: number; sha256?: string; hex?: string }[] };
}
const manifest = (): { keys: ManifestKey[] } => JSON.parse(readFileSync(sharedPath(MANIFEST), 'utf8'));

const fakeModelHandle = (inputs: string[], outputs: string[]): LoadedModel =>
  ({ inputs: inputs.map((name) => ({ name })), outputs: outputs.map((name) => ({ name })), run: async () => [], dispose: () => undefined }) as unknown as LoadedModel;
const fakeScriptHandle = (): LoadedScript => ({ functions: ['bar'], signature: () => ['Tensor'], run: async () => [], dispose: () => undefined });

function model(over: Partial<Model['meta']> = {}, blob = randomBytes(300)): Model {
  const meta = {
    backend: 'ONNX' as const,
    device: CPU,
    tag: Buffer.from('v1'),
    batchSize: 4,
    minBatchSize: 2,
    minBatchTimeout: 100,
    inputs: ['x'],
    outputs: ['y'],
    ...over,
  };
  return new Model(meta, blob, fakeModelHandle([...meta.inputs], [...meta.outputs]));
}

function script(entryPoints = ['bar', 'baz'], source = 'def bar(tensors: List[Tensor], keys: List[str], args: List[str]):\n    return tensors[0]\n'): Script {
  return new Script({ device: device('GPU:1'), tag: Buffer.from('t\x00x'), entryPoints }, source, fakeScriptHandle());
}

/** Builds a payload the way an old RedisAI wrote it: RDB type 7, the id, fields, EOF, version, CRC. */
function modulePayload(type: string, encver: number, fields: ['u', number | bigint] | ['s', string | Buffer] | (['u', number | bigint] | ['s', string | Buffer])[], rdbVersion = 9): Buffer {
  const w = new RdbWriter({ compress: true });
  w.u8(RDB_TYPE.MODULE_2).lenBig(moduleTypeId(type, encver));
  for (const [k, v] of fields as (['u', number | bigint] | ['s', string | Buffer])[]) {
    if (k === 'u') w.u8(MODULE_OPCODE.UINT).lenBig(BigInt(v));
    else w.u8(MODULE_OPCODE.STRING).string(typeof v === 'string' ? Buffer.from(v, 'latin1') : v);
  }
  w.u8(MODULE_OPCODE.EOF);
  const v = Buffer.alloc(2);
  v.writeUInt16LE(rdbVersion);
  w.raw(v);
  const body = w.toBuffer();
  return Buffer.concat([body, crc64Bytes(crc64Update(crc64Start(), body))]);
}

/** Recomputes a payload's CRC (to reach the decoder with damaged content). */
function reseal(p: Buffer): Buffer {
  const body = p.subarray(0, p.length - 8);
  return Buffer.concat([body, crc64Bytes(crc64Update(crc64Start(), body))]);
}

describe('CRC-64 (Jones, as Redis)', () => {
  it('has the check value of "123456789"', () => {
    expect(crc64(Buffer.from('123456789')).toString(16)).toBe('e9c6d914c4b8d9ca');
  });
  it('gives the same result in one go, in pieces, and at any alignment', () => {
    const data = randomBytes(10_000);
    const whole = crc64(data);
    expect(crc64(data.subarray(0, 3), data.subarray(3, 4097), data.subarray(4097))).toBe(whole);
    const shifted = Buffer.alloc(data.length + 5);
    data.copy(shifted, 5);
    expect(crc64(shifted.subarray(5))).toBe(whole);
    expect(crc64(Buffer.alloc(0))).toBe(0n);
  });
  it('the WebAssembly path (inputs of 512 bytes and more) agrees with the JS one', () => {
    const data = randomBytes(3000);
    for (const n of [511, 512, 513, 520, 1024, 2047, 3000]) {
      const bytewise = crc64Start();
      for (let i = 0; i < n; i++) crc64Update(bytewise, data.subarray(i, i + 1));
      expect(crc64Update(crc64Start(), data.subarray(0, n))).toEqual(bytewise);
    }
  });
});

describe('LZF', () => {
  it('round-trips compressible and random data of every small size', () => {
    for (let n = 0; n < 600; n++) {
      const s = Buffer.from(Array.from({ length: n }, (_, i) => 'abcab'[(i * 7 + (i >> 3)) % 5]!).join(''));
      const c = lzfCompress(s, Math.max(1, n - 4));
      if (c !== undefined) expect(lzfDecompress(c, n).equals(s)).toBe(true);
    }
    const z = Buffer.alloc(1 << 20);
    const c = lzfCompress(z, z.length - 4)!;
    expect(c.length).toBeLessThan(13_000);
    expect(lzfDecompress(c, z.length).equals(z)).toBe(true);
    // Random bytes do not compress: nothing is returned rather than something larger.
    expect(lzfCompress(randomBytes(4096), 4092)).toBeUndefined();
  });
  it('refuses malformed input', () => {
    expect(() => lzfDecompress(Buffer.from([0x05, 1, 2]), 6)).toThrow(/past the end of the input/);
    expect(() => lzfDecompress(Buffer.from([0x20, 0x00]), 3)).toThrow(/before the start/);
    expect(() => lzfDecompress(Buffer.from([0x00, 1]), 2)).toThrow(/1 bytes, 2 expected/);
    expect(() => lzfDecompress(Buffer.from([0xe0]), 20)).toThrow(/truncated/);
  });
  itShared('compresses the fixtures\' strings to the bytes Redis wrote', [MANIFEST], () => {
    let compared = 0;
    for (const k of manifest().keys) {
      const p = Buffer.from(k.dump_hex, 'hex');
      // Find each LZF string in the payload and compress its content again.
      for (let at = 0; at < p.length - 10; at++) {
        if (p[at] !== 0xc3 || (at > 0 && p[at - 1] !== MODULE_OPCODE.STRING)) continue;
        const inp = new BufferInput(p, p.length - 10);
        inp.offset = at;
        let s: Buffer;
        try {
          s = readString(inp);
        } catch {
          continue;
        }
        const c = lzfCompress(s, s.length - 4);
        expect(c?.toString('hex')).toBe(p.subarray(at, inp.offset).subarray(inp.offset - at - c!.length).toString('hex'));
        compared++;
      }
    }
    expect(compared).toBeGreaterThanOrEqual(7);
  });
});

describe('lengths and strings', () => {
  it('writes and reads lengths in their four sizes', () => {
    for (const n of [0, 1, 63, 64, 16383, 16384, 2 ** 32 - 1, 2 ** 32, 2 ** 40]) {
      const b = new RdbWriter().len(n).toBuffer();
      expect(b.length).toBe(n < 64 ? 1 : n < 16384 ? 2 : n < 2 ** 32 ? 5 : 9);
      expect(readLenOrEnc(new BufferInput(b))).toBe(n);
    }
  });
  it('encodes canonical integers as integers and everything else as it is', () => {
    const enc = (s: string) => new RdbWriter({ compress: false }).string(Buffer.from(s)).toBuffer().toString('hex');
    expect(enc('12')).toBe('c00c');
    expect(enc('-128')).toBe('c080');
    expect(enc('1000')).toBe('c1e803');
    expect(enc('-2147483648')).toBe('c200000080');
    expect(enc('2147483648')).toBe('0a' + Buffer.from('2147483648').toString('hex'));
    for (const s of ['012', '-0', '+1', '1 ', '', 'x']) expect(enc(s).slice(2)).toBe(Buffer.from(s).toString('hex'));
    for (const s of ['12', '-128', '1000', '-2147483648', '012', 'hello']) {
      expect(readString(new BufferInput(Buffer.from(enc(s), 'hex'))).toString()).toBe(s);
    }
  });
  it('compresses long strings when that saves space', () => {
    const s = Buffer.from('x'.repeat(100));
    const b = new RdbWriter().string(s).toBuffer();
    expect(b[0]).toBe(0xc3);
    expect(readString(new BufferInput(b)).equals(s)).toBe(true);
    const r = randomBytes(100);
    expect(new RdbWriter().string(r).toBuffer().subarray(0, 2).toString('hex')).toBe('4064');
    // Large incompressible values skip compression after a sample; large compressible ones do not.
    const big = randomBytes(1 << 20);
    expect(new RdbWriter().string(big).take()).toContain(big);
    expect(new RdbWriter().string(Buffer.alloc(1 << 20)).toBuffer()[0]).toBe(0xc3);
  });
});

describe('module type ids', () => {
  it('encode the name and the encoding version as Redis does', () => {
    expect(moduleTypeId('AI_TENSOR', 4).toString(16).padStart(16, '0')).toBe('008fd310d48e4404');
    expect(moduleTypeId('AI__MODEL', 4).toString(16).padStart(16, '0')).toBe('008fff30e0c42c04');
    expect(moduleTypeId('AI_SCRIPT', 4).toString(16).padStart(16, '0')).toBe('008fd209120f4c04');
    expect(moduleTypeOf(moduleTypeId('graphdata', 7))).toEqual({ name: 'graphdata', encver: 7 });
  });
});

function expectTensor(v: RdbValue): Tensor {
  expect(v.kind).toBe('tensor');
  return (v as { value: Tensor }).value;
}

describe('DUMP payloads of the original engine (fixtures)', () => {
  itShared('every key decodes to what the manifest read back', [MANIFEST], () => {
    const keys = manifest().keys;
    expect(keys).toHaveLength(18);
    for (const k of keys) {
      const v = readDump(Buffer.from(k.dump_hex, 'hex'));
      const e = k.expected;
      if (k.kind === 'tensor') {
        const t = expectTensor(v);
        const meta = e['tensorget_meta_values'] as [string, string, string, number[], string, string[]];
        expect(t.dtype).toBe(meta[1]);
        expect([...t.shape]).toEqual(meta[3]);
        expect(t.data.toString('hex')).toBe(e['blob_hex']);
      } else if (k.kind === 'model') {
        expect(v.kind).toBe('model');
        const m = (v as Extract<RdbValue, { kind: 'model' }>).value;
        const meta = e['modelget_meta'] as unknown[];
        expect([m.backend, m.device.name, m.tag.toString(), m.batchSize, m.minBatchSize, m.minBatchTimeout]).toEqual([meta[1], meta[3], meta[5], meta[7], meta[9], meta[15]]);
        expect(m.inputs).toEqual(meta[11]);
        expect(m.outputs).toEqual(meta[13]);
        expect(createHash('sha256').update(m.blob).digest('hex')).toBe(e['blob_sha256']);
      } else if (k.kind === 'script') {
        expect(v.kind).toBe('script');
        const s = (v as Extract<RdbValue, { kind: 'script' }>).value;
        const g = e['scriptget'] as unknown[];
        expect([s.device.name, s.tag.toString(), s.entryPoints, s.source]).toEqual([g[1], g[3], g[5], g[7]]);
      } else {
        expect(v).toEqual({ kind: 'string', value: Buffer.from(e['value'] as string) });
      }
    }
  });

  itShared('respai writes the same bytes for tensors and strings', [MANIFEST], () => {
    let same = 0;
    for (const k of manifest().keys) {
      const v = readDump(Buffer.from(k.dump_hex, 'hex'));
      if (v.kind !== 'tensor' && v.kind !== 'string') continue;
      const mine = createDump(v.kind === 'tensor' ? { type: 'tensor', value: v.value } : { type: 'string', value: v.value }, { modelChunkSize: 535822336 });
      expect(mine.toString('hex')).toBe(k.dump_hex);
      same++;
    }
    expect(same).toBe(14);
  });
});

describe('AI values at every encoding version', () => {
  const cpuTensorV0 = (encver: number) =>
    modulePayload('AI_TENSOR', encver, [
      ['u', 1], ['u', 2n ** 64n - 1n], ['u', 32], ['u', 0], ['u', 1], // CPU, device id -1, INT32, 1 lane
      ['u', 2], ['u', 2], ['u', 1], ['u', 1], ['u', 1], ['u', 0], // shape [2,1], strides [1,1], offset 0
      ['s', Buffer.from([1, 0, 0, 0, 2, 0, 0, 0])],
    ]);
  it('tensors: versions 0 to 3 (DLTensor layout) and 4', () => {
    for (const encver of [0, 1, 2, 3]) {
      const t = expectTensor(readDump(cpuTensorV0(encver)));
      expect([t.dtype, [...t.shape], t.values()]).toEqual(['INT32', [2, 1], [1, 2]]);
    }
    const v4 = modulePayload('AI_TENSOR', 4, [['u', 0], ['u', 32], ['u', 2], ['u', 2], ['u', 1], ['s', Buffer.from([1, 0, 0, 0, 2, 0, 0, 0])]]);
    expect(expectTensor(readDump(v4)).values()).toEqual([1, 2]);
    const str = modulePayload('AI_TENSOR', 4, [['u', 7], ['u', 8], ['u', 1], ['u', 2], ['s', 'str_val1\0str_val2\0'], ['u', 0], ['u', 9]]);
    expect(expectTensor(readDump(str)).values().map(String)).toEqual(['str_val1', 'str_val2']);
  });
  it('tensors: bad contents are refused', () => {
    const bad = [
      modulePayload('AI_TENSOR', 4, [['u', 2], ['u', 16], ['u', 1], ['u', 1], ['s', 'ab']]), // FLOAT16: unknown
      modulePayload('AI_TENSOR', 4, [['u', 2], ['u', 32], ['u', 1], ['u', 3], ['s', 'abcd']]), // size mismatch
      modulePayload('AI_TENSOR', 4, [['u', 6], ['u', 8], ['u', 1], ['u', 1], ['s', Buffer.from([2])]]), // BOOL 2
      modulePayload('AI_TENSOR', 4, [['u', 7], ['u', 8], ['u', 1], ['u', 2], ['s', 'a\0b\0'], ['u', 0], ['u', 3]]), // offsets
      modulePayload('AI_TENSOR', 5, [['u', 0]]), // newer encoding
      modulePayload('AI_TENSOR', 0, [['u', 2], ['u', 0]]), // GPU tensor
    ];
    for (const p of bad) expect(() => readDump(p)).toThrow(RdbError);
  });
  it('models: version 0 (tag with NUL, one blob), 1 (chunks), 2 and 3 (minbatchtimeout)', () => {
    const blob = randomBytes(100);
    const v0 = modulePayload('AI__MODEL', 0, [['u', 0], ['s', 'CPU\0'], ['s', 'TAG_V0\0'], ['u', 0], ['u', 0], ['u', 0], ['u', 0], ['s', blob]]);
    const m0 = readDump(v0) as Extract<RdbValue, { kind: 'model' }>;
    expect([m0.value.backend, m0.value.tag.toString(), m0.value.minBatchTimeout, m0.value.blob.equals(blob)]).toEqual(['TF', 'TAG_V0', 0, true]);
    const v1 = modulePayload('AI__MODEL', 1, [
      ['u', 2], ['s', 'CPU\0'], ['s', 'T1'], ['u', 4], ['u', 2], ['u', 2], ['s', 'a\0'], ['s', 'b\0'], ['u', 1], ['s', 'c\0'],
      ['u', 100], ['u', 2], ['s', blob.subarray(0, 60)], ['s', blob.subarray(60)],
    ]);
    const m1 = (readDump(v1) as Extract<RdbValue, { kind: 'model' }>).value;
    expect([m1.backend, m1.tag.toString(), m1.batchSize, m1.minBatchSize, m1.minBatchTimeout, m1.inputs, m1.outputs, m1.blob.equals(blob)]).toEqual([
      'TORCH', 'T1', 4, 2, 0, ['a', 'b'], ['c'], true,
    ]);
    for (const encver of [2, 3, 4]) {
      const p = modulePayload('AI__MODEL', encver, [
        ['u', 3], ['s', 'GPU:1\0'], ['s', 'T'], ['u', 4], ['u', 2], ['u', 1000], ['u', 0], ['u', 0], ['u', 100], ['u', 1], ['s', blob],
      ]);
      const m = (readDump(p) as Extract<RdbValue, { kind: 'model' }>).value;
      expect([m.backend, m.device.name, m.minBatchTimeout]).toEqual(['ONNX', 'GPU:1', 1000]);
    }
    // Chunks that do not add up, an unknown backend, a bad device.
    const chunky = modulePayload('AI__MODEL', 3, [['u', 3], ['s', 'CPU\0'], ['s', ''], ['u', 0], ['u', 0], ['u', 0], ['u', 0], ['u', 0], ['u', 101], ['u', 1], ['s', blob]]);
    expect(() => readDump(chunky)).toThrow(/100 bytes, 101 announced/);
    const backend = modulePayload('AI__MODEL', 3, [['u', 9], ['s', 'CPU\0']]);
    expect(() => readDump(backend)).toThrow(/unknown backend 9/);
    const dev = modulePayload('AI__MODEL', 3, [['u', 0], ['s', 'TPU\0']]);
    expect(() => readDump(dev)).toThrow(/bad device/);
  });
  it('scripts: entry points from version 3 on', () => {
    const v1 = modulePayload('AI_SCRIPT', 1, [['s', 'CPU\0'], ['s', 'S1'], ['s', 'def bar(a, b):\n  return a + b\n\0']]);
    const s1 = (readDump(v1) as Extract<RdbValue, { kind: 'script' }>).value;
    expect([s1.tag.toString(), s1.entryPoints, s1.source]).toEqual(['S1', [], 'def bar(a, b):\n  return a + b\n']);
    const v0 = modulePayload('AI_SCRIPT', 0, [['s', 'CPU\0'], ['s', 'S0\0'], ['s', 'x\0']]);
    expect((readDump(v0) as Extract<RdbValue, { kind: 'script' }>).value.tag.toString()).toBe('S0');
    const v3 = modulePayload('AI_SCRIPT', 3, [['s', 'CPU\0'], ['s', 'S3'], ['s', 'src\0'], ['u', 2], ['s', 'bar\0'], ['s', 'baz\0']]);
    expect((readDump(v3) as Extract<RdbValue, { kind: 'script' }>).value.entryPoints).toEqual(['bar', 'baz']);
  });
});

describe('DUMP round trips (respai writes, respai reads)', () => {
  const values = (): Parameters<typeof createDump>[0][] => [
    { type: 'string', value: Buffer.from('hello') },
    { type: 'string', value: Buffer.alloc(0) },
    { type: 'string', value: Buffer.from('12345') },
    { type: 'string', value: Buffer.alloc(5000, 'a') },
    { type: 'tensor', value: tensor('FLOAT', [2, 3], [1, 2, 3, 4, 5, 6]) },
    { type: 'tensor', value: tensor('INT64', [3], [-1n, 2n ** 62n, 0n]) },
    { type: 'tensor', value: tensor('STRING', [3], ['a', '', 'ßx']) },
    { type: 'tensor', value: tensor('BOOL', [], [1]) },
    { type: 'tensor', value: Tensor.fromBlob('UINT8', [70_000], randomBytes(70_000)) },
    { type: 'model', value: model() },
    { type: 'model', value: model({ backend: 'TF', inputs: ['a', 'b'], outputs: ['mul'], device: device('GPU:2'), tag: Buffer.alloc(0) }) },
    { type: 'script', value: script() },
    { type: 'script', value: script([]) },
  ];
  it('reads back every value it writes', () => {
    for (const v of values()) {
      const p = createDump(v, { modelChunkSize: 128 });
      expect(verifyDump(p).version).toBe(10);
      const back = readDump(p);
      switch (v.type) {
        case 'string':
          expect(back).toEqual({ kind: 'string', value: v.value });
          break;
        case 'tensor': {
          const t = expectTensor(back);
          expect([t.dtype, [...t.shape], t.data.equals(v.value.data)]).toEqual([v.value.dtype, [...v.value.shape], true]);
          break;
        }
        case 'model': {
          const m = (back as Extract<RdbValue, { kind: 'model' }>).value;
          const meta = v.value.meta;
          expect({ ...m, blob: undefined }).toEqual({ ...meta, device: meta.device, blob: undefined });
          expect(m.blob.equals(v.value.blob)).toBe(true);
          break;
        }
        case 'script': {
          const s = (back as Extract<RdbValue, { kind: 'script' }>).value;
          expect([s.device.name, s.tag, s.entryPoints, s.source]).toEqual([v.value.meta.device.name, v.value.meta.tag, v.value.meta.entryPoints, v.value.source]);
          break;
        }
      }
    }
  });
  it('writes models in chunks as the original counts them (an exact multiple ends with an empty one)', () => {
    const m = model({}, randomBytes(256));
    const back = readDump(createDump({ type: 'model', value: m }, { modelChunkSize: 128 })) as Extract<RdbValue, { kind: 'model' }>;
    expect(back.value.blob.equals(m.blob)).toBe(true);
    const fields = createDump({ type: 'model', value: m }, { modelChunkSize: 128, compress: false });
    // size 256, then 3 chunks: 128, 128, 0 (UINT opcode 2, then the length)
    expect(fields.includes(Buffer.from([0x02, 0x41, 0x00, 0x02, 0x03]))).toBe(true);
  });
  it('refuses wrong versions, checksums and trailing bytes', () => {
    const p = createDump({ type: 'string', value: Buffer.from('x') }, { modelChunkSize: 1 });
    const v12 = Buffer.from(p);
    v12.writeUInt16LE(12, p.length - 10);
    expect(() => verifyDump(reseal(v12))).toThrow(DumpVersionError);
    const v11 = Buffer.from(p);
    v11.writeUInt16LE(11, p.length - 10);
    expect(readDump(reseal(v11))).toEqual({ kind: 'string', value: Buffer.from('x') });
    const flipped = Buffer.from(p);
    flipped[1]! ^= 1;
    expect(() => readDump(flipped)).toThrow(DumpVersionError);
    expect(() => readDump(Buffer.alloc(9))).toThrow(DumpVersionError);
    const trailing = reseal(Buffer.concat([p.subarray(0, 3), Buffer.from([0]), p.subarray(3)]));
    expect(() => readDump(trailing)).toThrow(/1 bytes after the value/);
  });
});

describe('fuzzing the reader: truncated and bit-flipped payloads', () => {
  const payloads = (): Buffer[] => {
    const out = [
      createDump({ type: 'tensor', value: tensor('STRING', [2], ['ab', 'c']) }, { modelChunkSize: 64 }),
      createDump({ type: 'tensor', value: Tensor.fromBlob('FLOAT', [64], Buffer.alloc(256, 1)) }, { modelChunkSize: 64 }),
      createDump({ type: 'model', value: model({}, Buffer.alloc(200, 3)) }, { modelChunkSize: 64 }),
      createDump({ type: 'script', value: script() }, { modelChunkSize: 64 }),
      createDump({ type: 'string', value: Buffer.alloc(100, 'q') }, { modelChunkSize: 64 }),
    ];
    const seal = (write: (w: RdbWriter) => void) => {
      const w = new RdbWriter();
      write(w);
      return reseal(Buffer.concat([w.toBuffer(), Buffer.from([10, 0]), Buffer.alloc(8)]));
    };
    out.push(seal((w) => writeList(w, [Buffer.from('a'), Buffer.from('123'), Buffer.alloc(70, 'z')])));
    out.push(seal((w) => writeHash(w, [[Buffer.from('f'), Buffer.from('v')], [Buffer.from('g'), Buffer.from('-5')]])));
    return out;
  };
  // A fixed-seed generator: failures reproduce.
  let seed = 12345;
  const rand = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  it('every truncation is refused with a format error', () => {
    for (const p of payloads()) {
      for (let n = 0; n < p.length - 10; n++) {
        const cut = reseal(Buffer.concat([p.subarray(0, n), p.subarray(p.length - 10)]));
        expect(() => readDump(cut), `${n} bytes of ${p.toString('hex')}`).toThrow(RdbError);
      }
    }
  });
  it('bit flips give a checksum error, or (resealed) a format error or a valid value, never a crash', () => {
    let decoded = 0;
    let refused = 0;
    for (const p of payloads()) {
      for (let i = 0; i < 400; i++) {
        const b = Buffer.from(p);
        const at = rand(p.length - 10);
        b[at]! ^= 1 << rand(8);
        expect(() => readDump(b)).toThrow(DumpVersionError);
        try {
          readDump(reseal(b));
          decoded++;
        } catch (e) {
          if (!(e instanceof RdbError)) throw e;
          refused++;
        }
      }
    }
    expect(refused).toBeGreaterThan(0);
    expect(decoded + refused).toBe(2800);
  });
});

describe('lists and hashes (pure codecs; the keyspace does not hold them yet)', () => {
  const el = (s: string) => Buffer.from(s, 'latin1');
  const sample = ['', 'a', '0', '127', '128', '-1', '-4096', '4095', '4096', '-32768', '32767', '32768', '-8388608', '8388607', '8388608', '-2147483648', '2147483647', '2147483648', '9223372036854775807', '-9223372036854775808', '9223372036854775808', '007', 'x'.repeat(63), 'y'.repeat(64), 'z'.repeat(4095), 'w'.repeat(4096)];
  it('listpack: every encoding round-trips', () => {
    const lp = encodeListpack(sample.map(el));
    expect(decodeListpack(lp).map((b) => b.toString('latin1'))).toEqual(sample);
  });
  it('listpack: damaged ones are refused', () => {
    const lp = encodeListpack(sample.slice(0, 8).map(el));
    const wrongTotal = Buffer.from(lp);
    wrongTotal.writeUInt32LE(lp.length + 1, 0);
    expect(() => decodeListpack(wrongTotal)).toThrow(/header says/);
    const wrongCount = Buffer.from(lp);
    wrongCount.writeUInt16LE(3, 4);
    expect(() => decodeListpack(wrongCount)).toThrow(/entries/);
    const noEnd = Buffer.from(lp);
    noEnd[noEnd.length - 1] = 0;
    expect(() => decodeListpack(noEnd)).toThrow(/terminator/);
    for (let i = 6; i < lp.length - 1; i++) {
      const b = Buffer.from(lp);
      b[i]! ^= 0x80;
      try {
        decodeListpack(b);
      } catch (e) {
        expect(e).toBeInstanceOf(RdbError);
      }
    }
  });
  it('ziplist and zipmap: decoded as Redis 6 and 2.4 wrote them', () => {
    // A ziplist of "ab", 12, -2, 300, 70000, 2^40, 100000 (24-bit), 7 (immediate), "x"*70 (14-bit length)
    const entries: Buffer[] = [];
    const add = (enc: Buffer) => {
      const prev = entries.length === 0 ? 0 : entries[entries.length - 1]!.length;
      entries.push(Buffer.concat([Buffer.from([prev]), enc]));
    };
    const i16 = Buffer.alloc(3);
    i16[0] = 0xc0;
    i16.writeInt16LE(300, 1);
    const i32 = Buffer.alloc(5);
    i32[0] = 0xd0;
    i32.writeInt32LE(70000, 1);
    const i64 = Buffer.alloc(9);
    i64[0] = 0xe0;
    i64.writeBigInt64LE(2n ** 40n, 1);
    const i24 = Buffer.alloc(4);
    i24[0] = 0xf0;
    i24.writeIntLE(-100000, 1, 3);
    add(Buffer.from([0x02, 0x61, 0x62]));
    add(Buffer.from([0xfe, 12]));
    add(Buffer.from([0xfe, 0xfe]));
    add(i16);
    add(i32);
    add(i64);
    add(i24);
    add(Buffer.from([0xf8]));
    add(Buffer.concat([Buffer.from([0x40, 70]), Buffer.alloc(70, 'x')]));
    const body = Buffer.concat(entries);
    const hdr = Buffer.alloc(10);
    hdr.writeUInt32LE(10 + body.length + 1, 0);
    hdr.writeUInt32LE(10 + body.length - entries[entries.length - 1]!.length, 4);
    hdr.writeUInt16LE(entries.length, 8);
    const zl = Buffer.concat([hdr, body, Buffer.from([0xff])]);
    expect(decodeZiplist(zl).map(String)).toEqual(['ab', '12', '-2', '300', '70000', String(2 ** 40), '-100000', '7', 'x'.repeat(70)]);
    const badTail = Buffer.from(zl);
    badTail.writeUInt32LE(11, 4);
    expect(() => decodeZiplist(badTail)).toThrow(/tail/);
    const zm = Buffer.from([2, 1, 0x6b, 2, 0, 0x76, 0x31, 3, 0x6b, 0x6b, 0x32, 1, 1, 0x76, 0x00, 0xff]);
    expect(decodeZipmap(zm).map(([f, v]) => [String(f), String(v)])).toEqual([['k', 'v1'], ['kk2', 'v']]);
  });
  it('list and hash writers pick Redis 7\'s encodings, and the reader reads them back', () => {
    const w = new RdbWriter();
    const big = Array.from({ length: 3000 }, (_, i) => el(i % 3 === 0 ? String(i) : `item-${i}`));
    writeList(w, big);
    const listBytes = w.toBuffer();
    expect(listBytes[0]).toBe(RDB_TYPE.LIST_QUICKLIST_2);
    const inp = new BufferInput(listBytes);
    const l = readValue(inp, inp.u8());
    expect(l.kind === 'list' && l.value.map(String)).toEqual(big.map(String));
    const small: [Buffer, Buffer][] = [[el('f1'), el('v1')], [el('n'), el('42')]];
    const h = new RdbWriter();
    writeHash(h, small);
    const hb = h.toBuffer();
    expect(hb[0]).toBe(RDB_TYPE.HASH_LISTPACK);
    const hi = new BufferInput(hb);
    expect(readValue(hi, hi.u8())).toEqual({ kind: 'hash', value: small });
    const large: [Buffer, Buffer][] = Array.from({ length: 200 }, (_, i) => [el(`f${i}`), el('v'.repeat(i))]);
    const h2 = new RdbWriter();
    writeHash(h2, large);
    const hb2 = h2.toBuffer();
    expect(hb2[0]).toBe(RDB_TYPE.HASH);
    const hi2 = new BufferInput(hb2);
    expect(readValue(hi2, hi2.u8())).toEqual({ kind: 'hash', value: large });
  });
});

