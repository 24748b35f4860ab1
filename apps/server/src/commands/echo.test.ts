import { describe, expect, it } from 'vitest';
import type { ExecContext } from './types.js';
import { echo } from './echo.js';

describe('ECHO', () => {
  it('replies the argument as a bulk string, byte for byte', () => {
    const msg = Buffer.from([0, 0xff, 0x0d, 0x0a, 0x41]);
    const req = echo.parse([msg], { protoMaxBulkLen: 1 << 20 });
    expect(echo.execute({} as ExecContext, req)).toEqual(msg);
    expect(echo.execute({} as ExecContext, echo.parse([Buffer.alloc(0)], { protoMaxBulkLen: 1 << 20 }))).toEqual(Buffer.alloc(0));
  });
});
