// Builds the TORCH addon (native/, over Debian's libtorch: 20 s to over a minute) when an input
// changed; `--force` rebuilds regardless. The mechanics are core's build-addon.mjs.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildAddon } from '@respai/core/build-addon';

process.exit(
  buildAddon({
    pkg: join(dirname(fileURLToPath(import.meta.url)), '..'),
    target: 'respai_torch',
    label: 'backend-torch',
    inputs: ['scripts/torch-version.mjs'],
    check: () =>
      existsSync('/usr/include/torch/script.h')
        ? undefined
        : 'libtorch headers missing; install the Debian package libtorch-dev (scripts/bootstrap does)',
  }),
);
