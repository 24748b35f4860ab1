import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ensureBuilt } from '@respai/core/testing';

const packageDir = fileURLToPath(new URL('../../', import.meta.url));

/** The TFLITE backend's build for tests: the native addon first, then the TypeScript. */
export function ensureTfliteBuilt(): void {
  ensureBuilt(packageDir, () => execFileSync(process.execPath, [`${packageDir}scripts/build-native.mjs`], { stdio: 'inherit' }));
}
