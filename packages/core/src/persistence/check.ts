import { truncateTo } from './manager.js';
import { scanFile, type ScanResult } from './reader.js';

export interface CheckReport {
  /** What was found, as lines for a terminal. */
  lines: string[];
  /** 0: the file is fine or was fixed; 1: it has a problem left; 2: it cannot be read at all. */
  exitCode: number;
  result?: ScanResult;
  /** Bytes removed by `fix`. */
  removed: number;
}

/**
 * What `respai-check-aof [--fix] <file>` does: reads a snapshot or an append-only file, checking
 * every record, and reports the last valid offset. With `fix`, an append-only file is truncated
 * there (everything from the first bad or incomplete record on is dropped). Snapshots are only
 * checked: cutting one short would drop keys silently.
 */
export function checkFile(path: string, fix: boolean): CheckReport {
  let r: ScanResult;
  try {
    r = scanFile(path);
  } catch (e) {
    return { lines: [`Cannot read ${path}: ${(e as Error).message}`], exitCode: 2, removed: 0 };
  }
  const kind = r.kind === 'snapshot' ? 'snapshot' : r.kind === 'aof' ? 'append-only file' : 'empty file';
  const lines = [`${path}: ${kind}${r.kind === 'empty' ? '' : `, format version ${r.version}`}, ${r.fileSize} bytes`];
  lines.push(`${r.records} valid record${r.records === 1 ? '' : 's'}; last valid offset ${r.validEnd}`);
  if (r.problem === undefined) {
    lines.push(r.kind === 'snapshot' ? 'Snapshot is valid' : 'AOF is valid');
    return { lines, exitCode: 0, result: r, removed: 0 };
  }
  const p = r.problem;
  lines.push(`${p.type === 'truncated' ? 'Truncated' : 'Corrupt'} at offset ${p.offset} (${p.record === 0 ? 'header' : `record ${p.record}`}): ${p.reason}`);
  if (r.kind === 'snapshot') {
    lines.push('Snapshots cannot be repaired by truncation: restore one from a backup, or move it away to start without it');
    return { lines, exitCode: 1, result: r, removed: 0 };
  }
  const removed = r.fileSize - r.validEnd;
  if (!fix) {
    lines.push(`To drop the last ${removed} bytes (everything from offset ${r.validEnd} on), run: respai-check-aof --fix ${path}`);
    return { lines, exitCode: 1, result: r, removed: 0 };
  }
  try {
    truncateTo(path, r.validEnd);
  } catch (e) {
    lines.push(`Could not truncate ${path}: ${(e as Error).message}`);
    return { lines, exitCode: 2, result: r, removed: 0 };
  }
  lines.push(`Successfully truncated AOF ${path} from ${r.fileSize} to ${r.validEnd} bytes (removed ${removed} bytes)`);
  return { lines, exitCode: 0, result: r, removed };
}
