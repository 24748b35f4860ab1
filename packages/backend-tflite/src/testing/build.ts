import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, and this package's directory. */
export const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
export const packageDir = resolve(repoRoot, 'packages/backend-tflite');
export const sharedModels = resolve(repoRoot, '../shared/models');

/**
 * Worker threads cannot run TypeScript, so tests use the built worker (`dist/worker.js`, which
 * imports the built `@respai/core`) and the built addon. Builds first when a source is newer.
 */
export function ensureBuilt(): void {
  const pairs: [string, string][] = [];
  const src = join(packageDir, 'src');
  for (const f of readdirSync(src)) {
    if (f.endsWith('.ts') && !f.endsWith('.test.ts')) pairs.push([join(src, f), join(packageDir, 'dist', f.replace(/\.ts$/, '.js'))]);
  }
  const core = resolve(repoRoot, 'packages/core');
  pairs.push([join(core, 'src/backend/workers.ts'), join(core, 'dist/backend/workers.js')]);
  const stale = pairs.some(([s, d]) => !existsSync(d) || statSync(s).mtimeMs > statSync(d).mtimeMs);
  execFileSync(process.execPath, [join(packageDir, 'scripts/build-native.mjs')], { stdio: 'inherit' });
  if (stale) execFileSync(resolve(repoRoot, 'node_modules/.bin/tsc'), ['-b', packageDir], { stdio: 'inherit' });
}
