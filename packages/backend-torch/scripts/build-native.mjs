// Builds the native addon with node-gyp, skipping the compile (about 20 s) when
// build/Release/respai_torch.node is newer than every input. `--force` always rebuilds.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(pkg, 'build/Release/respai_torch.node');
const inputs = [
  join(pkg, 'binding.gyp'),
  join(pkg, 'scripts/torch-version.mjs'),
  ...readdirSync(join(pkg, 'native')).map((f) => join(pkg, 'native', f)),
];

const force = process.argv.includes('--force');
if (!force && existsSync(out)) {
  const built = statSync(out).mtimeMs;
  if (inputs.every((f) => statSync(f).mtimeMs < built)) process.exit(0);
}

if (!existsSync('/usr/include/torch/script.h')) {
  console.error('backend-torch: libtorch headers missing; install the Debian package libtorch-dev (scripts/bootstrap does)');
  process.exit(1);
}

// Headers of the running Node when they ship beside it (Debian's nodejs, official tarballs):
// node-gyp would otherwise download them, and build machines may have no internet.
const args = ['rebuild', '-j', '1'];
const prefix = dirname(dirname(process.execPath));
if (existsSync(join(prefix, 'include/node/common.gypi'))) args.push(`--nodedir=${prefix}`);

const nodeGyp = createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
const t0 = Date.now();
const r = spawnSync(process.execPath, [nodeGyp, ...args], { cwd: pkg, stdio: ['ignore', 'inherit', 'inherit'] });
if (r.status !== 0) process.exit(r.status ?? 1);
console.error(`backend-torch: native addon built in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
