import { describe, expect, it } from 'vitest';
import type { Client } from '../client.js';
import { OK } from '../resp/reply.js';
import { multi } from './multi.js';
import type { ExecContext } from './types.js';
import { errorOf } from './test-helpers.js';

const ctxFor = (client: Partial<Client>) => ({ client: client as Client }) as unknown as ExecContext;

describe('MULTI', () => {
  it('opens an empty transaction', () => {
    const client: Partial<Client> = { multi: undefined, multiDirty: true };
    expect(multi.parse([], { protoMaxBulkLen: 1 << 20 })).toBeUndefined();
    expect(multi.execute(ctxFor(client), undefined)).toBe(OK);
    expect(client.multi).toEqual([]);
    expect(client.multiDirty).toBe(false);
  });

  it('cannot be nested, and the open transaction is kept', () => {
    const queued = [{ command: multi, args: [] }];
    const client: Partial<Client> = { multi: queued as Client['multi'], multiDirty: false };
    expect(errorOf(() => multi.execute(ctxFor(client), undefined))).toBe('ERR MULTI calls can not be nested');
    expect(client.multi).toBe(queued);
  });

  it('is flagged to run at once inside MULTI', () => {
    expect(multi.flags).toContain('nomulti');
  });
});
