import { describe, expect, it } from 'vitest';
import { RUN_STARTED, RUN_WAITING, RUN_WITHDRAWN, RunControl, claimRun } from './run-control.js';
import type { QueuedRun } from './spi.js';

const queued = (): QueuedRun => ({ deadline: Infinity, withdraw: undefined, computeUs: undefined });

describe('RunControl', () => {
  it('claim and withdraw race on one record: whichever comes first wins, once', () => {
    const c = new RunControl(4);
    const q = queued();
    const cell = c.acquire(q);
    expect(Atomics.load(c.states, cell)).toBe(RUN_WAITING);
    expect(claimRun(c, cell)).toBe(true);
    expect(q.withdraw!()).toBe(false);
    const q2 = queued();
    const cell2 = c.acquire(q2);
    expect(q2.withdraw!()).toBe(true);
    expect(Atomics.load(c.states, cell2)).toBe(RUN_WITHDRAWN);
    expect(claimRun(c, cell2)).toBe(false);
    expect(Atomics.load(c.states, cell)).toBe(RUN_STARTED);
  });

  it('release reports the compute time of a started run and recycles the record', () => {
    const c = new RunControl(1);
    const q = queued();
    const cell = c.acquire(q);
    claimRun(c, cell);
    c.micros[cell] = 1234.4;
    c.release(cell, q);
    expect(q.computeUs).toBe(1234);
    expect(q.withdraw).toBeUndefined();
    expect(c.acquire(queued())).toBe(cell);
  });

  it("an abandoned record (a timed-out run its worker still holds) never comes back: no later run reads that worker's write", () => {
    const c = new RunControl(2);
    const q = queued();
    const cell = c.acquire(q);
    claimRun(c, cell);
    c.abandon(cell, q);
    expect(c.abandoned).toBe(1);
    const other = c.acquire(queued());
    expect(other).not.toBe(cell);
    // With every record used or abandoned, runs go without one (-1): no withdraw, deadline still applies.
    expect(c.acquire(queued())).toBe(-1);
  });
});
