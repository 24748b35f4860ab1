import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';

/**
 * Real models and fixtures made by others live in `../shared` beside the repository (never copied
 * into it). Every test that reads them goes through here, so there is one rule for finding them
 * and one rule for their absence: a test whose files are missing is skipped with the reason in its
 * name, and fails instead when RESPAI_REQUIRE_SHARED=1 (set by `.ci/run`, which always has
 * `../shared`), so CI proves that no real-model test was skipped.
 */

/** The repository root: the nearest folder above this module holding pnpm-workspace.yaml. */
export const repoRoot: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('respai repository root not found above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
})();

/** `../shared` beside the repository (RESPAI_SHARED overrides it). */
export const sharedDir: string = process.env['RESPAI_SHARED'] ?? resolve(repoRoot, '../shared');

/** A path inside `../shared` (whether or not it exists). */
export function sharedPath(...parts: string[]): string {
  return join(sharedDir, ...parts);
}

/** Whether CI demands the shared files (missing ones fail the tests that need them). */
export const requireShared = process.env['RESPAI_REQUIRE_SHARED'] === '1';

/** The files among `parts` (paths relative to ../shared) that are missing. */
export function missingShared(files: readonly string[]): string[] {
  return files.filter((f) => !existsSync(sharedPath(f)));
}

/** True when every file exists; each file is a path relative to ../shared (`models/mnist.onnx`). */
export function hasShared(...files: string[]): boolean {
  return missingShared(files).length === 0;
}

type TestFn = () => unknown;

/**
 * `it(name, fn)` for a test that needs `files` from ../shared. Missing files: skipped, saying which
 * (or failing, under RESPAI_REQUIRE_SHARED=1).
 */
export function itShared(name: string, files: readonly string[], fn: TestFn, timeout?: number): void {
  const missing = missingShared(files);
  if (missing.length === 0) {
    it(name, fn, timeout);
  } else if (requireShared) {
    it(name, () => {
      throw new Error(`needs ${missing.map((f) => sharedPath(f)).join(', ')}, which is missing (RESPAI_REQUIRE_SHARED=1)`);
    });
  } else {
    it.skip(`${name} [skipped: ../shared/${missing.join(', ../shared/')} missing]`, fn);
  }
}

/**
 * `[make()]` when every file of `files` (relative to ../shared) exists, for lists of fixtures (the
 * conformance suite's models). Otherwise `[]` and a skipped test saying what is missing, or, under
 * RESPAI_REQUIRE_SHARED=1, a failing one.
 */
export function ifShared<T>(what: string, files: readonly string[], make: () => T): T[] {
  const missing = missingShared(files);
  if (missing.length === 0) return [make()];
  itShared(what, files, () => undefined);
  return [];
}

/** `describe(name, fn)` for a suite that needs `files` from ../shared; as {@link itShared} when they are missing. */
export function describeShared(name: string, files: readonly string[], fn: () => void): void {
  if (missingShared(files).length === 0) describe(name, fn);
  else itShared(name, files, () => undefined);
}
