// Shared by this package's tests (excluded from the build).
import { readFileSync } from 'node:fs';
import { sharedPath } from '@respai/core/testing';
import { crc32 } from 'node:zlib';
import { writeZip } from './fuzz/archive.js';
import { Tensor, type BackendSettings, type Device, type ScriptHost, type ScriptReply } from '@respai/core';

export const CPU: Device = { type: 'CPU', index: undefined, name: 'CPU' };
export const GPU: Device = { type: 'GPU', index: undefined, name: 'GPU' };

export const settings: BackendSettings = {
  intraOpParallelism: 0,
  interOpParallelism: 0,
  modelExecutionTimeoutMs: 5000,
  backendMemoryLimitMb: 0,
  threadsPerQueue: 2,
  log: { debug() {}, info() {}, warn() {} },
};

/** RedisAI's own test model (../shared/models/pt-minimal.pt), read when a test needs it. */
export const ptMinimal = (): Buffer => readFileSync(sharedPath('models/pt-minimal.pt'));
export const PT_MINIMAL = ['models/pt-minimal.pt'];

export const floats = (shape: number[], values: number[]): Tensor =>
  Tensor.fromBlob('FLOAT', shape, Buffer.from(new Float32Array(values).buffer));

export const values = (t: Tensor): (number | bigint)[] => t.values() as (number | bigint)[];

/** A zip of stored (uncompressed) entries, as torch writes them (fuzz/archive.ts's writer). */
export function zip(entries: Record<string, Buffer | string>): Buffer {
  return writeZip(Object.entries(entries).map(([name, content]) => ({ name, data: Buffer.from(content) })));
}

/**
 * Rewrites the content of the zip entry ending in `suffix` with bytes of the same length, fixing
 * its CRC wherever the zip keeps it (central directory, local header, data descriptor): the
 * reader checks it. Torch writes sizes in the central directory only (data descriptors).
 */
export function patchZipEntry(blob: Buffer, suffix: string, content: string): Buffer {
  const out = Buffer.from(blob);
  const data = Buffer.from(content);
  const crc = crc32(data);
  const eocd = out.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const entries = out.readUInt16LE(eocd + 10);
  let at = out.readUInt32LE(eocd + 16);
  for (let i = 0; i < entries; i++) {
    const nlen = out.readUInt16LE(at + 28);
    const next = at + 46 + nlen + out.readUInt16LE(at + 30) + out.readUInt16LE(at + 32);
    const name = out.toString('latin1', at + 46, at + 46 + nlen);
    if (name.endsWith(suffix)) {
      const size = out.readUInt32LE(at + 24);
      if (size !== data.length) throw new Error(`entry ${name} has ${size} bytes, not ${data.length}`);
      const local = out.readUInt32LE(at + 42);
      const start = local + 30 + out.readUInt16LE(local + 26) + out.readUInt16LE(local + 28);
      data.copy(out, start);
      out.writeUInt32LE(crc, at + 16);
      out.writeUInt32LE(crc, local + 14);
      if (out.readUInt16LE(local + 6) & 0x08) {
        const d = start + size;
        out.writeUInt32LE(crc, out.readUInt32LE(d) === 0x08074b50 ? d + 4 : d);
      }
      return out;
    }
    at = next;
  }
  throw new Error(`no entry ending in ${suffix}`);
}

/** A keyspace of strings and lists for redis.execute, answering like Redis (RESP2 shapes). */
export function fakeHost(overrides: Partial<ScriptHost> = {}): ScriptHost & { calls: string[][]; data: Map<string, string | string[]> } {
  const data = new Map<string, string | string[]>();
  const calls: string[][] = [];
  const str = (b: string | Buffer | undefined) => (b === undefined ? undefined : b.toString());
  return {
    calls,
    data,
    async execute(args): Promise<ScriptReply> {
      const [cmd, ...rest] = args.map(str) as string[];
      calls.push([cmd!, ...rest]);
      await new Promise((r) => setTimeout(r, 1)); // answer later, as the engine does
      switch (cmd?.toUpperCase()) {
        case 'SET':
          if (rest.length !== 2) return { error: "ERR wrong number of arguments for 'set' command" };
          data.set(rest[0]!, rest[1]!);
          return 'OK';
        case 'GET': {
          const v = data.get(rest[0]!);
          return v === undefined ? null : Buffer.from(v as string);
        }
        case 'INCR': {
          const v = BigInt((data.get(rest[0]!) as string | undefined) ?? '0') + 1n;
          data.set(rest[0]!, v.toString());
          return v;
        }
        case 'DEL':
          return BigInt(rest.filter((k) => data.delete(k)).length);
        case 'RPUSH': {
          const l = (data.get(rest[0]!) as string[] | undefined) ?? [];
          l.push(...rest.slice(1));
          data.set(rest[0]!, l);
          return BigInt(l.length);
        }
        case 'LRANGE':
          return ((data.get(rest[0]!) as string[] | undefined) ?? []).map((s) => Buffer.from(s));
        default:
          return { error: `ERR unknown command '${cmd}'` };
      }
    },
    modelExecute: () => Promise.reject(new Error('no models here')),
    ...overrides,
  };
}
