import { describe, expect, it } from 'vitest';
import { RespaiError } from '../errors.js';
import { DTYPE_NAMES, DTYPES, isKeyword, parseDType, type DType } from './dtype.js';

/** Matches a RespaiError with exactly this text (a bare string would match any message containing it). */
const err = (text: string) => new RespaiError(text);

describe('dtype table', () => {
  it('lists every dtype with its element size and kind', () => {
    expect(DTYPE_NAMES).toEqual([
      'FLOAT', 'DOUBLE', 'INT8', 'INT16', 'INT32', 'INT64', 'UINT8', 'UINT16', 'BOOL', 'STRING',
    ]);
    const sizes = Object.fromEntries(DTYPE_NAMES.map((d) => [d, DTYPES[d].size]));
    expect(sizes).toEqual({
      FLOAT: 4, DOUBLE: 8, INT8: 1, INT16: 2, INT32: 4, INT64: 8, UINT8: 1, UINT16: 2, BOOL: 1, STRING: 0,
    });
    expect(DTYPE_NAMES.filter((d) => DTYPES[d].kind === 'float')).toEqual(['FLOAT', 'DOUBLE']);
    expect(DTYPES.BOOL.kind).toBe('bool');
    expect(DTYPES.STRING.kind).toBe('string');
  });

  it('has typed arrays whose element size matches', () => {
    for (const d of DTYPE_NAMES) {
      expect(DTYPES[d].array.BYTES_PER_ELEMENT).toBe(DTYPES[d].size || 1);
    }
    expect(DTYPES.INT64.array).toBe(BigInt64Array);
  });

  it('has exact integer ranges', () => {
    expect(DTYPES.INT8.range).toEqual({ min: -128n, max: 127n });
    expect(DTYPES.INT16.range).toEqual({ min: -32768n, max: 32767n });
    expect(DTYPES.INT32.range).toEqual({ min: -2147483648n, max: 2147483647n });
    expect(DTYPES.INT64.range).toEqual({ min: -9223372036854775808n, max: 9223372036854775807n });
    expect(DTYPES.UINT8.range).toEqual({ min: 0n, max: 255n });
    expect(DTYPES.UINT16.range).toEqual({ min: 0n, max: 65535n });
    expect(DTYPES.BOOL.range).toEqual({ min: 0n, max: 1n });
    expect(DTYPES.FLOAT.range).toBeUndefined();
    expect(DTYPES.STRING.range).toBeUndefined();
  });
});

describe('parseDType', () => {
  it('accepts every name in any case, from a string or a Buffer', () => {
    for (const d of DTYPE_NAMES) {
      expect(parseDType(d)).toBe(d);
      expect(parseDType(d.toLowerCase())).toBe(d);
      expect(parseDType(Buffer.from(d.toLowerCase()))).toBe(d);
    }
    expect(parseDType('Float')).toBe<DType>('FLOAT');
    expect(parseDType('uInt16')).toBe<DType>('UINT16');
  });

  it('rejects anything else with the catalog text', () => {
    for (const bad of ['INT128', 'INT', 'FLOAT32', 'float ', '', 'UINT32', 'UINT64', 'DOUBLES', 'x'.repeat(1000)]) {
      expect(() => parseDType(bad)).toThrow(err('ERR invalid data type'));
    }
    // Unicode case mapping must not turn a non-ASCII letter into a match.
    expect(() => parseDType('\u0131nt8')).toThrow(err('ERR invalid data type'));
    expect(() => parseDType(Buffer.from('FLOAT\0'))).toThrow(err('ERR invalid data type'));
  });
});

describe('isKeyword', () => {
  it('matches ASCII case-insensitively and exactly', () => {
    expect(isKeyword(Buffer.from('blob'), 'BLOB')).toBe(true);
    expect(isKeyword(Buffer.from('BloB'), 'BLOB')).toBe(true);
    expect(isKeyword(Buffer.from('BLOBS'), 'BLOB')).toBe(false);
    expect(isKeyword(Buffer.from('BLO'), 'BLOB')).toBe(false);
  });
});
