import { describe, expect, it } from 'vitest';
import type { Client } from '../client.js';
import { OK } from '../resp/reply.js';
import { discard } from './discard.js';
import type { ExecContext } from './types.js';
import { errorOf } from './test-helpers.js';

const ctxFor = (client: Partial<Client>) => ({ client: client as Client }) as unknown as ExecContext;

describe('DISCARD', () => {
  it('without MULTI is an error', () => {
    expect(discard.parse([], { protoMaxBulkLen: 1 << 20 })).toBeUndefined();
    expect(errorOf(() => discard.execute(ctxFor({ multi: undefined }), undefined))).toBe('ERR DISCARD without MULTI');
  });

  it('drops the queue and the dirty flag', () => {
    const client: Partial<Client> = { multi: [], multiDirty: true };
    expect(discard.execute(ctxFor(client), undefined)).toBe(OK);
    expect(client.multi).toBeUndefined();
    expect(client.multiDirty).toBe(false);
  });

  it('is flagged to run at once inside MULTI', () => {
    expect(discard.flags).toContain('nomulti');
  });
});
