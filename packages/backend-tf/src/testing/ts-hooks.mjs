// Module hooks for worker threads started from TypeScript sources (vitest runs src/, not dist/):
// `.js` imports resolve to the `.ts` beside them, `@respai/<pkg>` to that workspace package's
// sources (as the root vitest.config.ts aliases do), and `.ts` files compile with esbuild.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { transformSync } from 'esbuild';

let root = dirname(fileURLToPath(import.meta.url));
while (!existsSync(join(root, 'pnpm-workspace.yaml')) && dirname(root) !== root) root = dirname(root);

/** '@respai/x' -> the package's src dir, for every workspace package. */
const sources = new Map();
for (const group of ['packages', 'apps']) {
  const dir = join(root, group);
  if (!existsSync(dir)) continue;
  for (const name of readdirSync(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, name, 'package.json'), 'utf8'));
      sources.set(pkg.name, join(dir, name, 'src'));
    } catch {
      // not a package
    }
  }
}

export async function resolve(specifier, context, next) {
  const m = /^(@respai\/[^/]+)(?:\/(.+))?$/.exec(specifier);
  if (m && sources.has(m[1])) {
    const file = join(sources.get(m[1]), m[2] ? `${m[2]}/index.ts` : 'index.ts');
    if (existsSync(file)) return { url: pathToFileURL(file).href, shortCircuit: true };
  }
  if (specifier.endsWith('.js') && context.parentURL?.endsWith('.ts') && specifier.startsWith('.')) {
    const ts = new URL(specifier.slice(0, -3) + '.ts', context.parentURL);
    if (existsSync(fileURLToPath(ts))) return { url: ts.href, shortCircuit: true };
  }
  return next(specifier, context);
}

export async function load(url, context, next) {
  if (!url.endsWith('.ts')) return next(url, context);
  const file = fileURLToPath(url);
  const { code } = transformSync(readFileSync(file, 'utf8'), {
    loader: 'ts',
    format: 'esm',
    target: 'node20',
    sourcefile: file,
    sourcemap: 'inline',
  });
  return { format: 'module', source: code, shortCircuit: true };
}
