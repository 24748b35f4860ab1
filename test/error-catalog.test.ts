/**
 * Every error text a client can receive lives in a catalog (docs/architecture.md): core's
 * `packages/core/src/errors.ts` (`E`), or a backend package's own `messages.ts`. This reads the
 * sources of every package and app and fails on an error text written anywhere else, so a new
 * command cannot add one inline by habit. Lua source that raises its own errors is the one exception.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
/**
 * A string literal that opens with a RESP error code and a message (a code alone, as in
 * `message.startsWith('WRONGTYPE')`, recognises a reply rather than writing one).
 */
const TEXT = /['"`](ERR|WRONGTYPE|NOPERM|BUSYKEY|NOSCRIPT|NOTBUSY|NOAUTH|NOPROTO|EXECABORT|LOADING|CROSSSLOT|WRONGPASS) [A-Za-z$]/;
const COMMENT = /^\s*(\*|\/\/|\/\*)/;
const CATALOGS = /(^packages\/core\/src\/errors\.ts|\/messages\.ts)$/;
/** Lua source raising errors inside the interpreter (the prelude's error handler). */
const ALLOWED = new Set(['apps/server/src/lua/prelude.ts']);

function sources(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'node_modules' && e.name !== 'dist' && e.name !== 'testing' && e.name !== 'generated') sources(p, out);
    } else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !e.name.endsWith('.d.ts') && e.name !== 'test-helpers.ts') out.push(p);
  }
  return out;
}

describe('the error catalog', () => {
  it('holds every error text: none is written inline in a package or app', () => {
    const files = ['apps', 'packages'].flatMap((d) =>
      readdirSync(join(ROOT, d), { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .flatMap((e) => sources(join(ROOT, d, e.name, 'src'))),
    );
    expect(files.length).toBeGreaterThan(200);
    const inline: string[] = [];
    for (const f of files) {
      const rel = relative(ROOT, f);
      if (CATALOGS.test(rel) || ALLOWED.has(rel)) continue;
      readFileSync(f, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (TEXT.test(line) && !COMMENT.test(line)) inline.push(`${rel}:${i + 1}: ${line.trim()}`);
        });
    }
    expect(inline).toEqual([]);
  });

  it('would catch one (the check itself)', () => {
    expect(TEXT.test("fail('ERR something new')")).toBe(true);
    expect(TEXT.test('fail(`NOPERM ${x}`)')).toBe(true);
    expect(TEXT.test("e.message.startsWith('WRONGTYPE')")).toBe(false);
    expect(TEXT.test("const x = 'ERROR_MAX'")).toBe(false);
  });
});
