// Builds a backend's native addon with node-gyp (shared by backend-torch and backend-tflite),
// skipping the compile when native/build/Release/<target>.node is newer than every input;
// `--force` reconfigures and runs make regardless. binding.gyp lives in native/, not the package
// root, because pnpm runs `node-gyp rebuild` on install for any package with a root binding.gyp
// and no install script. Concurrent builds (turbo runs started by different people) take turns
// through a lock directory: two node-gyp runs in one build directory break each other.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, utimesSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * @param {{ pkg: string, target: string, label: string, inputs?: string[], check?: () => string | undefined }} o
 *   pkg: the package directory; target: binding.gyp's target name; label: for messages;
 *   inputs: more files (relative to pkg) whose change means a rebuild; check: a reason the build
 *   cannot run here (a missing system library), or undefined.
 * @returns {number} the exit status
 */
export function buildAddon({ pkg, target, label, inputs: extra = [], check }) {
  const native = join(pkg, 'native');
  const out = join(native, `build/Release/${target}.node`);
  const lock = join(pkg, '.native-build.lock');
  const inputs = [
    ...['scripts/build-native.mjs', ...extra].map((f) => join(pkg, f)),
    fileURLToPath(import.meta.url),
    ...readdirSync(native)
      .filter((f) => f !== 'build')
      .map((f) => join(native, f)),
  ];
  const force = process.argv.includes('--force');
  const fresh = () => existsSync(out) && inputs.every((f) => statSync(f).mtimeMs < statSync(out).mtimeMs);
  if (!force && fresh()) return 0;
  const why = check?.();
  if (why !== undefined) {
    console.error(`${label}: ${why}`);
    return 1;
  }

  const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // A lock older than 10 minutes belongs to a build that died.
      try {
        if (Date.now() - statSync(lock).mtimeMs > 600_000) rmSync(lock, { recursive: true, force: true });
      } catch {}
      sleep(500);
    }
  }

  let status = 0;
  try {
    if (force || !fresh()) {
      // Headers of the running Node when they ship beside it (Debian's nodejs, official tarballs):
      // node-gyp would otherwise download them, and build machines may have no internet.
      const common = [];
      const prefix = dirname(dirname(process.execPath));
      if (existsSync(join(prefix, 'include/node/common.gypi'))) common.push(`--nodedir=${prefix}`);
      const nodeGyp = createRequire(join(pkg, 'package.json')).resolve('node-gyp/bin/node-gyp.js');
      const gyp = (...args) =>
        spawnSync(process.execPath, [nodeGyp, ...args, ...common], { cwd: native, stdio: ['ignore', 'inherit', 'inherit'] }).status ?? 1;
      const t0 = Date.now();
      // configure + build rather than rebuild: the previous addon stays usable until the new one links.
      const makefile = join(native, 'build/Makefile');
      const configured = existsSync(makefile) && statSync(join(native, 'binding.gyp')).mtimeMs < statSync(makefile).mtimeMs;
      status = force || !configured ? gyp('configure') : 0;
      if (status === 0) status = gyp('build', '-j', '1');
      if (status === 0) {
        // make leaves the addon untouched when only a script changed; mark it fresh all the same.
        const now = new Date();
        utimesSync(out, now, now);
        console.error(`${label}: native addon built in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      }
    }
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
  return status;
}
