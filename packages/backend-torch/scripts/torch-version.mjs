// Prints the libtorch version the addon reports. Debian's libtorch-dev 1.13.1 ships a generated
// torch/version.h that still says 1.13.0, so the package version wins where dpkg knows it.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

function fromDpkg() {
  try {
    const v = execFileSync('dpkg-query', ['-W', '-f=${Version}', 'libtorch-dev'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return /^(?:\d+:)?(\d+\.\d+\.\d+)/.exec(v)?.[1];
  } catch {
    return undefined;
  }
}

function fromHeader() {
  try {
    return /#define TORCH_VERSION\s*\\?\s*"([^"]+)"/.exec(readFileSync('/usr/include/torch/csrc/api/include/torch/version.h', 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

process.stdout.write(fromDpkg() ?? fromHeader() ?? 'unknown');
