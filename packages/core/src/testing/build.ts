import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { repoRoot } from './shared-data.js';

/** Every non-test TypeScript source under `dir`, with the built file it compiles to. */
function sourcesOf(packageDir: string): [string, string][] {
  const out: [string, string][] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !e.name.endsWith('.d.ts')) {
        out.push([p, join(packageDir, 'dist', relative(join(packageDir, 'src'), p).replace(/\.ts$/, '.js'))]);
      }
    }
  };
  walk(join(packageDir, 'src'));
  return out;
}

/**
 * Worker threads and child processes cannot run TypeScript, so a backend's tests use its build
 * (`dist/worker.js`, importing the built @respai/core). Builds the package (and core, a project
 * reference) when a source is newer than its output. `before` runs first (a native addon's build).
 */
export function ensureBuilt(packageDir: string, before?: () => void): void {
  before?.();
  const core = join(repoRoot, 'packages/core');
  const stale = [...sourcesOf(packageDir), ...sourcesOf(core)].some(([s, d]) => !existsSync(d) || statSync(s).mtimeMs > statSync(d).mtimeMs);
  if (stale) execFileSync(join(repoRoot, 'node_modules/.bin/tsc'), ['-b', packageDir], { stdio: 'inherit' });
}

/** `packages/<name>` of this repository. */
export function packageDir(name: string): string {
  return join(repoRoot, 'packages', name);
}
