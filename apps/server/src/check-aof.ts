#!/usr/bin/env node
import { checkFile } from '@respai/core';

const USAGE = `Usage: respai-check-aof [--fix] <file>

Checks a respai append-only file record by record and reports the last valid offset. With --fix,
it is truncated there: the first damaged or incomplete record and everything after it are removed
(make a backup first). Nothing is asked. Snapshots are checked too (never changed): RDB files
(every value decoded, the checksum verified, keys counted per type) and respai's older format.
Exit status: 0 valid (or fixed), 1 damaged, 2 unreadable or bad usage.
`;

function main(argv: string[]): number {
  const fix = argv.includes('--fix');
  const files = argv.filter((a) => a !== '--fix');
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (files.length !== 1 || files[0]!.startsWith('-')) {
    process.stderr.write(USAGE);
    return 2;
  }
  const report = checkFile(files[0]!, fix);
  process.stdout.write(report.lines.join('\n') + '\n');
  return report.exitCode;
}

process.exitCode = main(process.argv.slice(2));
