/**
 * Every example in every package README runs here, as a user would run it: `ts`/`js` blocks as
 * ES modules under Node (TypeScript transpiled, and all of them type-checked together against
 * the built packages), `sh` blocks under bash with the built `respai` on PATH. A block says what
 * it needs in the comment line just above it:
 *
 *   <!-- example: server; shared=models/mnist.onnx,models/one.raw; cwd=root -->
 *
 * `server`: a respai server runs and `localhost:6379` (and `respai ...` commands) point at it;
 * `shared=`: those ../shared files are linked into the example's folder (itShared: skipped,
 * saying why, when missing); `cwd=root`: run from the repository root. A ts/js/sh block without
 * the comment fails the test, so no example goes unrun. Expected output: `console.log(...); //
 * text` lines in code (stdout must be those texts, in order); for `sh`, a `text` block right after
 * it (each of its lines must be a line of stdout; a line ending in `...` matches by prefix).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { itShared, sharedPath } from '@respai/core/testing';
import { REPO, startServer, type RunningServer } from './helpers/server.js';

interface Example {
  readme: string;
  index: number;
  lang: 'ts' | 'js' | 'sh';
  code: string;
  server: boolean;
  shared: string[];
  root: boolean;
  /** For sh: the text block that follows. */
  output?: string;
}

const RUNNABLE = new Set(['ts', 'js', 'sh']);

function readmes(): string[] {
  const out: string[] = [];
  for (const group of ['packages', 'apps']) {
    for (const d of readdirSync(join(REPO, group)).sort()) {
      const p = join(REPO, group, d, 'README.md');
      if (existsSync(join(REPO, group, d, 'package.json'))) out.push(p);
    }
  }
  return out;
}

/** The fenced blocks of a README with their markers; unmarked runnable blocks are returned too, to fail. */
function parse(readme: string): { examples: Example[]; unmarked: string[] } {
  const lines = readFileSync(readme, 'utf8').split('\n');
  const examples: Example[] = [];
  const unmarked: string[] = [];
  let marker: string | undefined;
  /** The line after the last example's closing fence. */
  let lastEnd = -1;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const m = /^<!-- example(?::\s*(.*?))?\s*-->$/.exec(line);
    if (m) {
      marker = m[1] ?? '';
      continue;
    }
    const fence = /^```(\w*)\s*$/.exec(line);
    if (!fence) {
      if (line.trim() !== '') marker = undefined;
      continue;
    }
    const lang = fence[1]!;
    const start = i + 1;
    while (i + 1 < lines.length && !lines[i + 1]!.startsWith('```')) i++;
    const code = lines.slice(start, i + 1).join('\n') + '\n';
    i++; // the closing fence
    if (!RUNNABLE.has(lang)) {
      // A text block right after an sh example (only blank lines between) is its output.
      const prev = examples.at(-1);
      if (lang === 'text' && prev?.lang === 'sh' && prev.output === undefined && lines.slice(lastEnd, start - 1).every((l) => l.trim() === '')) {
        prev.output = code;
      }
      marker = undefined;
      continue;
    }
    if (marker === undefined) {
      unmarked.push(`line ${start}: \`\`\`${lang}`);
      continue;
    }
    const opts = marker.split(';').map((s) => s.trim()).filter(Boolean);
    const shared = opts.find((o) => o.startsWith('shared='))?.slice(7).split(',').filter(Boolean) ?? [];
    examples.push({ readme, index: examples.length, lang: lang as Example['lang'], code, server: opts.includes('server'), shared, root: opts.includes('cwd=root') });
    lastEnd = i + 1;
    marker = undefined;
  }
  return { examples, unmarked };
}

const all = readmes().map((r) => ({ readme: r, ...parse(r) }));
const TMP = join(REPO, 'node_modules/.cache/respai-readme-examples');

let server: RunningServer | undefined;
beforeAll(async () => {
  mkdirSync(TMP, { recursive: true });
  if (all.some((r) => r.examples.some((e) => e.server))) server = await startServer();
});
afterAll(async () => {
  rmSync(TMP, { recursive: true, force: true });
  if (server) expect(await server.stop()).toBe(0);
});

const withPort = (code: string) => code.replaceAll('localhost:6379', `127.0.0.1:${server!.port}`);

function toJs(code: string): string {
  return ts.transpileModule(code, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
}

/** The texts of `console.log(...); // text` lines, in order. */
function expectedLogs(code: string): string[] {
  return code
    .split('\n')
    .filter((l) => l.includes('console.log(') && / \/\/ /.test(l))
    .map((l) => l.slice(l.lastIndexOf(' // ') + 4).trim());
}

function folder(e: Example): string {
  const dir = mkdtempSync(join(TMP, `${basename(join(e.readme, '..'))}-${e.index}-`));
  for (const f of e.shared) symlinkSync(sharedPath(f), join(dir, basename(f)));
  return dir;
}

function exec(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, env: { ...process.env, ...env }, timeout: 120_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function runExample(e: Example): Promise<void> {
  const dir = folder(e);
  const cwd = e.root ? REPO : dir;
  const env = { PATH: `${join(REPO, 'node_modules/.bin')}:${process.env['PATH']}`, TMPDIR: dir };
  if (e.lang === 'sh') {
    let code = e.server ? withPort(e.code) : e.code;
    if (e.server) code = code.replace(/^respai /gm, `respai -p ${server!.port} `);
    writeFileSync(join(dir, 'example.sh'), `set -euo pipefail\n${code}`);
    const r = await exec('bash', [join(dir, 'example.sh')], cwd, env);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const got = r.stdout.split('\n');
    for (const want of (e.output ?? '').split('\n').filter((l) => l !== '')) {
      const ok = want.endsWith('...') ? got.some((g) => g.startsWith(want.slice(0, -3))) : got.includes(want);
      expect(ok, `stdout lacks the line ${JSON.stringify(want)}:\n${r.stdout}`).toBe(true);
    }
    return;
  }
  const code = e.server ? withPort(e.code) : e.code;
  const file = join(e.root ? join(REPO, 'node_modules/.cache') : dir, `example-${basename(dir)}.mjs`);
  writeFileSync(file, e.lang === 'ts' ? toJs(code) : code);
  const r = await exec(process.execPath, [file], cwd, env);
  expect(r.code, r.stderr + r.stdout).toBe(0);
  expect(r.stdout.split('\n').filter((l) => l !== ''), r.stderr).toEqual(expectedLogs(e.code));
}

describe('README examples', () => {
  it('every package and app has a README with at least one example, and no runnable block goes unmarked', () => {
    for (const r of all) {
      expect(existsSync(r.readme), `${r.readme} is missing`).toBe(true);
      expect(r.unmarked, `${r.readme}: runnable blocks without an <!-- example --> line`).toEqual([]);
      expect(r.examples.length, `${r.readme} has no example`).toBeGreaterThan(0);
    }
  });

  it("a script at the repository root imports '@respai/client' and '@respai/core' (the root depends on them)", async () => {
    const file = join(REPO, `.respai-import-check-${process.pid}.mjs`);
    writeFileSync(file, "const c = await import('@respai/client');\nconst e = await import('@respai/core');\nconsole.log(typeof c.RespaiClient, typeof e.Engine);\n");
    try {
      const r = await exec(process.execPath, [file], REPO, {});
      expect(r.stdout + r.stderr).toBe('function function\n');
    } finally {
      rmSync(file, { force: true });
    }
  });

  it('the TypeScript examples type-check against the built packages', () => {
    const tsExamples = all.flatMap((r) => r.examples.filter((e) => e.lang === 'ts'));
    const dir = mkdtempSync(join(TMP, 'typecheck-'));
    const files = tsExamples.map((e, i) => {
      const f = join(dir, `${basename(join(e.readme, '..'))}-${i}.mts`);
      writeFileSync(f, e.code + '\nexport {};\n');
      return f;
    });
    const program = ts.createProgram(files, {
      strict: true,
      noUncheckedIndexedAccess: true,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      lib: ['lib.es2023.d.ts'],
      types: ['node'],
      typeRoots: [join(REPO, 'node_modules/@types')],
      noEmit: true,
      skipLibCheck: true,
    });
    const diags = ts.getPreEmitDiagnostics(program).map((d) => {
      const where = d.file ? `${basename(d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}` : '';
      return `${where} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
    expect(diags).toEqual([]);
  });

  for (const r of all) {
    describe(r.readme.slice(REPO.length), () => {
      for (const e of r.examples) {
        const name = `example ${e.index + 1} (${e.lang}${e.server ? ', server' : ''})`;
        if (e.shared.length > 0) itShared(name, e.shared, () => runExample(e), 120_000);
        else it(name, () => runExample(e), 120_000);
      }
    });
  }
});
