import { describe, expect, it, vi } from 'vitest';
import type { Client } from '../client.js';
import { OK } from '../resp/reply.js';
import { quit } from './quit.js';
import type { ExecContext } from './types.js';

describe('QUIT', () => {
  it('ignores arguments, replies OK and closes after the reply', () => {
    expect(quit.parse([Buffer.from('extra')], { protoMaxBulkLen: 1 << 20 })).toBeUndefined();
    const closeAfterReply = vi.fn();
    const ctx = { client: { closeAfterReply } as unknown as Client } as unknown as ExecContext;
    expect(quit.execute(ctx, undefined)).toBe(OK);
    expect(closeAfterReply).toHaveBeenCalledOnce();
  });

  it('is allowed before AUTH and runs at once inside MULTI', () => {
    expect(quit.flags).toEqual(expect.arrayContaining(['noauth', 'nomulti']));
  });
});
