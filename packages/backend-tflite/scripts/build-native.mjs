// Builds the TFLITE addon (native/, over the TFLite C library node-tflite ships: a few seconds)
// when an input changed; `--force` rebuilds regardless. The mechanics are core's build-addon.mjs.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildAddon } from '@respai/core/build-addon';

process.exit(
  buildAddon({
    pkg: join(dirname(fileURLToPath(import.meta.url)), '..'),
    target: 'respai_tflite',
    label: 'backend-tflite',
    check: () =>
      process.platform === 'linux' && process.arch === 'x64'
        ? undefined
        : `node-tflite ships the TFLite library for linux x64 only here, not ${process.platform} ${process.arch}`,
  }),
);
