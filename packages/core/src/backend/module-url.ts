import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * A module of a package's build beside the calling module (`import.meta.url`): `worker.js` next to
 * `backend.js`. From TypeScript sources (tests) it is the package's built one, as worker threads
 * cannot run TypeScript (tests build first: `ensureBuilt` of @respai/core/testing).
 */
export function builtModuleUrl(from: string, name: string): URL {
  const here = new URL(`./${name}`, from);
  return existsSync(fileURLToPath(here)) ? here : new URL(`../dist/${name}`, from);
}
