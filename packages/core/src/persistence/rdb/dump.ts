import type { Value } from '../../keyspace/keyspace.js';
import { BufferInput, RdbError, RdbWriter, type WriterOptions } from './codec.js';
import { crc64Bytes, crc64Matches, crc64Start, crc64Update } from './crc64.js';
import { readValue, writeValue, type RdbValue, type WriteOptions } from './values.js';

/**
 * DUMP payloads (Redis 7, cluster.c createDumpPayload / verifyDumpPayload): a value as RDB writes
 * it (type byte, then the value), the RDB version as 2 bytes little-endian, then the CRC-64 of all
 * that, 8 bytes little-endian.
 */

/** The RDB version respai writes (Redis 7.0's). */
export const RDB_VERSION = 10;
/** The newest RDB version read (Redis 7.2's). */
export const RDB_MAX_VERSION = 11;

/** A payload whose version is too new or whose checksum does not match. */
export class DumpVersionError extends Error {}

/** DUMP: the payload for a value. */
export function createDump(v: Value, o: WriteOptions & Partial<WriterOptions>): Buffer {
  const w = new RdbWriter({ compress: o.compress ?? true });
  writeValue(w, v, o);
  const footer = Buffer.alloc(2);
  footer.writeUInt16LE(RDB_VERSION, 0);
  w.raw(footer);
  const parts = w.take();
  const crc = crc64Start();
  for (const p of parts) crc64Update(crc, p);
  return Buffer.concat([...parts, crc64Bytes(crc)]);
}

/**
 * The DUMP payload of a value as an RDB file holds it (its type byte and bytes, as read): what
 * DUMP would give for that key on the server that wrote the file (`version`: the file's).
 */
export function dumpOfRaw(type: number, value: Uint8Array, version: number): Buffer {
  const head = Buffer.from([type]);
  const footer = Buffer.alloc(2);
  footer.writeUInt16LE(version, 0);
  const crc = crc64Start();
  for (const p of [head, value, footer]) crc64Update(crc, p);
  return Buffer.concat([head, value, footer, crc64Bytes(crc)]);
}

/** verifyDumpPayload: at least 10 bytes, a version this server reads, and a matching CRC-64. */
export function verifyDump(payload: Buffer): { version: number } {
  if (payload.length < 10) throw new DumpVersionError('payload shorter than its footer');
  const version = payload.readUInt16LE(payload.length - 10);
  if (version > RDB_MAX_VERSION) throw new DumpVersionError(`RDB version ${version} is newer than ${RDB_MAX_VERSION}`);
  const crc = crc64Update(crc64Start(), payload.subarray(0, payload.length - 8));
  if (!crc64Matches(crc, payload, payload.length - 8)) throw new DumpVersionError('checksum mismatch');
  return { version };
}

/**
 * RESTORE's reading of a payload: verified first (DumpVersionError), then decoded (RdbError when
 * malformed, including bytes left over after the value).
 */
export function readDump(payload: Buffer): RdbValue {
  verifyDump(payload);
  const inp = new BufferInput(payload, payload.length - 10);
  const v = readValue(inp, inp.u8());
  if (inp.remaining !== 0) throw new RdbError(`${inp.remaining} bytes after the value`);
  return v;
}
