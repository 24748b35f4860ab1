import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { truncateTo } from './manager.js';
import { RdbFileError, loadRdbFileSync, looksLikeRdb } from './rdb/file.js';
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
  if (isRdb(path)) return checkRdb(path);
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

function isRdb(path: string): boolean {
  try {
    const fd = openSync(path, 'r');
    try {
      const head = Buffer.alloc(9);
      return looksLikeRdb(head.subarray(0, readSync(fd, head, 0, 9, 0)));
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
}

/** An RDB snapshot: read whole (every value decoded, the checksum checked), like redis-check-rdb. */
function checkRdb(path: string): CheckReport {
  const types = new Map<string, number>();
  let keys = 0;
  let expires = 0;
  const size = statSync(path).size;
  const lines = [`${path}: RDB file, ${size} bytes`];
  try {
    const info = loadRdbFileSync(path, {
      onKey: (rec) => {
        keys++;
        if (rec.expireAt !== 0) expires++;
        const t = rec.value.kind === 'other' ? rec.value.type : rec.value.kind;
        types.set(t, (types.get(t) ?? 0) + 1);
      },
    });
    lines.push(`RDB version ${info.version}${info.aux.has('redis-ver') ? `, written by Redis ${info.aux.get('redis-ver')}` : ''}${info.aux.has('respai-ver') ? ` (respai ${info.aux.get('respai-ver')})` : ''}`);
    lines.push(`${keys} keys (${[...types].map(([t, n]) => `${t}: ${n}`).join(', ') || 'none'}), ${expires} with an expiry`);
    for (const [what, n] of info.skipped) lines.push(`${n} ${what} (not loaded by respai)`);
    lines.push(info.checksummed ? 'Checksum OK' : 'No checksum (written with rdbchecksum no)');
    lines.push('RDB looks OK');
    return { lines, exitCode: 0, removed: 0 };
  } catch (e) {
    if (!(e instanceof RdbFileError)) return { lines: [...lines, `Cannot read ${path}: ${(e as Error).message}`], exitCode: 2, removed: 0 };
    lines.push(`${keys} keys read before offset ${e.offset}`);
    lines.push(`Damaged at offset ${e.offset}: ${e.message}`);
    lines.push('Snapshots cannot be repaired by truncation: restore one from a backup, or move it away to start without it');
    return { lines, exitCode: 1, removed: 0 };
  }
}
