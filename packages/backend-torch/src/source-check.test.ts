import { describe, expect, it } from 'vitest';
import { MAX_BLOCK_DEPTH, MAX_BRACKET_DEPTH, nestingError } from './source-check.js';

const brackets = (d: number, line = 2) =>
  `the script nests brackets more than ${MAX_BRACKET_DEPTH} deep (line ${line}); TorchScript, like Python, allows ${MAX_BRACKET_DEPTH}`;
const blocks = (line: number) =>
  `the script nests blocks more than ${MAX_BLOCK_DEPTH} deep (line ${line}); TorchScript, like Python, allows ${MAX_BLOCK_DEPTH}`;

describe('nestingError: Python\'s nesting limits, checked before libtorch sees a source', () => {
  it('brackets of any kind, counted together, up to 200', () => {
    expect(nestingError(`def f(a):\n    return ${'('.repeat(200)}a${')'.repeat(200)}\n`)).toBeUndefined();
    expect(nestingError(`def f(a):\n    return ${'('.repeat(201)}a${')'.repeat(201)}\n`)).toBe(brackets(201));
    expect(nestingError(`def f(a):\n    return ${'([{'.repeat(67)}a\n`)).toBe(brackets(201));
    // Closed brackets do not add up.
    expect(nestingError(`def f(a):\n    return ${'(a) + '.repeat(10_000)}a\n`)).toBeUndefined();
  });

  it('brackets in strings, triple-quoted strings and comments do not count; escapes are skipped', () => {
    const deep = '('.repeat(500);
    expect(nestingError(`# ${deep}\ndef f(a):\n    s = "${deep}"\n    t = '${deep}'\n    u = """\n${deep}\n"""\n    v = "\\"${deep}"\n    return a\n`)).toBeUndefined();
    // An unterminated string ends at its line: what follows counts again.
    expect(nestingError(`def f(a):\n    s = "abc\n    return ${'('.repeat(201)}\n`)).toBe(brackets(201, 3));
  });

  it('the line of the refusal counts lines inside strings and continuations', () => {
    expect(nestingError(`x = """\n\n\n"""\ny = \\\n  ${'['.repeat(201)}\n`)).toBe(brackets(201, 6));
  });

  it('blocks: up to 100 levels of indentation; lines inside brackets, blank and comment lines do not count', () => {
    const nest = (d: number) => {
      let src = 'def f(a):\n';
      for (let i = 1; i < d; i++) src += `${' '.repeat(i)}if True:\n`;
      return `${src}${' '.repeat(d)}a = a\n return a\n`;
    };
    expect(nestingError(nest(MAX_BLOCK_DEPTH))).toBeUndefined();
    expect(nestingError(nest(MAX_BLOCK_DEPTH + 1))).toBe(blocks(MAX_BLOCK_DEPTH + 2));
    const inBrackets = `def f(a):\n    x = (\n${Array.from({ length: 300 }, (_, i) => `${' '.repeat(i + 5)}1 +\n`).join('')}        1)\n    return a\n`;
    expect(nestingError(inBrackets)).toBeUndefined();
    const blanks = `def f(a):\n${Array.from({ length: 300 }, (_, i) => `${' '.repeat(i + 5)}# c\n${' '.repeat(i + 5)}\n`).join('')}    return a\n`;
    expect(nestingError(blanks)).toBeUndefined();
    // Dedenting pops levels: many blocks one after another are not deep.
    expect(nestingError(`def f(a):\n${'    if True:\n        a = a\n'.repeat(500)}    return a\n`)).toBeUndefined();
    // Tabs count to the next multiple of 8, as in Python.
    expect(nestingError(`def f(a):\n\tif True:\n\t\ta = a\n\treturn a\n`)).toBeUndefined();
  });

  it('scans a 10 MB source in one pass (a quadratic scan would time the test out)', () => {
    const src = `def f(a):\n${'    a = a + (1 + [2, {3: 4}][0])  # ()\n'.repeat(300_000)}    return a\n`;
    expect(src.length).toBeGreaterThan(10_000_000);
    expect(nestingError(src)).toBeUndefined();
  });
});
