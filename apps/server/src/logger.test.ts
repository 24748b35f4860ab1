import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { LOG_LIMITS, boundedLogOptions } from './logger.js';

/** A bounded logger writing to memory; returns it and the lines it wrote. */
function memoryLog() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString().split('\n').filter((l) => l !== ''));
      done();
    },
  });
  return { log: pino({ level: 'debug', ...boundedLogOptions() }, sink), lines };
}

const MiB = 'x'.repeat(1 << 20);
const MAX_LINE = LOG_LIMITS.line + 1024; // the fields, plus pino's own (level, time, pid, msg)

describe('log lines stay bounded whatever they carry', () => {
  it('a 1 MiB message, field, key, error message and stack, array and object', async () => {
    const { log, lines } = memoryLog();
    log.info(MiB);
    log.info({ key: MiB }, 'a field');
    log.info({ [MiB]: 1 }, 'a key');
    const e = new Error(`could not compile: ${MiB}`);
    e.stack = `Error: x\n${`    at f (${MiB})\n`.repeat(100)}`;
    log.error(e);
    log.error({ err: e, command: 'AI.SCRIPTSTORE' }, 'command failed unexpectedly');
    log.error({ err: e });
    log.warn({ list: Array.from({ length: 100_000 }, (_, i) => i) }, 'an array');
    log.warn({ obj: Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`k${i}`, MiB.slice(0, 500)])) }, 'an object');
    log.warn({ deep: JSON.parse(`${'{"a":'.repeat(1000)}1${'}'.repeat(1000)}`) }, 'nesting');
    log.warn({ buf: Buffer.alloc(1 << 20) }, 'a buffer');
    await new Promise((r) => setImmediate(r));
    expect(lines).toHaveLength(10);
    for (const l of lines) {
      expect(l.length).toBeLessThan(MAX_LINE);
      expect(() => JSON.parse(l)).not.toThrow();
    }
    const err = JSON.parse(lines[3]!) as { level: number; msg: string; err: { type: string; message: string; stack: string[] } };
    expect(err.level).toBe(50);
    expect(err.err.type).toBe('Error');
    expect(err.err.message).toMatch(/^could not compile: x+\.\.\. \(\d+ more characters\)$/);
    expect(err.msg.length).toBeLessThan(LOG_LIMITS.string + 64);
    expect(JSON.parse(lines[4]!).command).toBe('AI.SCRIPTSTORE');
  });

  it('small lines are left as they are', async () => {
    const { log, lines } = memoryLog();
    log.info({ backend: 'TORCH', version: '1.13.1', n: 3, nested: { a: [1, 2] } }, 'backend loaded');
    await new Promise((r) => setImmediate(r));
    const l = JSON.parse(lines[0]!);
    expect(l).toMatchObject({ backend: 'TORCH', version: '1.13.1', n: 3, nested: { a: [1, 2] }, msg: 'backend loaded' });
  });
});
