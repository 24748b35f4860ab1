import { describe, expect, it } from 'vitest';
import { E, ERROR_MAX, RespaiError, bounded, echo, errorText } from './errors.js';

describe('echo: what an error quotes of an argument', () => {
  it("keeps 128 bytes, as Redis's '%.128s', line breaks as spaces", () => {
    expect(echo('short')).toBe('short');
    expect(echo('x'.repeat(1 << 20))).toBe('x'.repeat(128));
    expect(echo(Buffer.from('a\r\nb'))).toBe('a  b');
    expect(E.invalidArgument('y'.repeat(5000))).toBe(`Invalid argument: ${'y'.repeat(128)}`);
    expect(E.unknownSubcommand('z'.repeat(300), 'config')).toBe(`ERR unknown subcommand '${'z'.repeat(128)}'. Try CONFIG HELP.`);
  });
});

describe('errorText bounds what runtimes quote', () => {
  it('a 1 MiB identifier in a compile error: 128 bytes of it, the message around it intact', () => {
    const id = 'A'.repeat(1 << 20);
    const text = errorText(new Error(`undefined value ${id}:\n  File "<string>", line 1\n${id}\n${'~'.repeat(1 << 20)} <--- HERE\n`));
    expect(text).toBe(`ERR undefined value ${'A'.repeat(128)}...   File "<string>", line 1 ${'A'.repeat(128)}... ${'~'.repeat(128)}... <--- HERE `);
  });

  it('never more than ERROR_MAX bytes, whatever the message', () => {
    const text = errorText(new Error('ab '.repeat(1 << 20)));
    expect(Buffer.byteLength(text)).toBe(ERROR_MAX);
    expect(text.endsWith('...')).toBe(true);
    expect(errorText(new RespaiError(`ERR ${'q '.repeat(10_000)}`)).length).toBe(ERROR_MAX);
  });

  it("leaves catalog texts and Redis's quoted arguments alone", () => {
    const redis = E.unknownCommand('x'.repeat(128), `'${'y'.repeat(128)}' `);
    expect(errorText(new RespaiError(redis))).toBe(redis);
    expect(bounded(E.wrongType)).toBe(E.wrongType);
    expect(errorText(new Error('a\r\nb'))).toBe('ERR a b');
  });
});
