import { closeSync, openSync, readSync } from 'node:fs';
import cliProgress from 'cli-progress';
import { dumpOfRaw, loadRdbFile } from '@respai/core';
import type { Connection } from './connect.js';

export interface ImportOptions {
  /** RESTORE ... REPLACE: overwrite keys that exist. */
  replace: boolean;
  /** Which database of the file to import (respai has database 0 only). */
  db: number;
  progress: boolean;
}

export interface ImportReport {
  rdbVersion: number;
  imported: number;
  withTtl: number;
  /** Keys whose expiry had passed. */
  expired: number;
  /** Keys of other databases. */
  otherDbs: number;
  /** RESTORE's refusals: [key, error text]. */
  failed: [string, string][];
}

interface KeyRange {
  key: string;
  type: number;
  start: number;
  end: number;
  expireAt: number;
}

/** RESTOREs in flight at once: enough to keep a pipe full, few enough to bound memory. */
const IN_FLIGHT = 32;

/**
 * Imports an RDB file (written by Redis with the original engine, or by respai) into a running
 * server: every key of database `db` is sent as RESTORE of its value's bytes exactly as the file
 * holds them (a DUMP payload of the file's RDB version), so the server checks and decodes each
 * value as it would a DUMP, models and scripts loading through their backends. The file is read
 * twice: once to check it whole (its checksum) and find the values, once to send them.
 */
export async function importRdb(file: string, o: ImportOptions, conn: Connection): Promise<ImportReport> {
  const keys: KeyRange[] = [];
  const report: ImportReport = { rdbVersion: 0, imported: 0, withTtl: 0, expired: 0, otherDbs: 0, failed: [] };
  const now = Date.now();
  const info = await loadRdbFile(file, {
    onKey(r) {
      if (r.db !== o.db) report.otherDbs++;
      else if (r.expireAt !== 0 && r.expireAt <= now) report.expired++;
      else keys.push({ key: r.key, type: r.rdbType, start: r.valueStart, end: r.valueEnd, expireAt: r.expireAt });
    },
  });
  report.rdbVersion = info.version;
  const bar = o.progress
    ? new cliProgress.SingleBar(
        { stream: process.stderr, noTTYOutput: true, notTTYSchedule: 1000, format: 'import [{bar}] {value}/{total} keys | {percentage}%' },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  bar?.start(keys.length, 0);
  const fd = openSync(file, 'r');
  try {
    let next = 0;
    const worker = async () => {
      for (;;) {
        const k = keys[next++];
        if (k === undefined) return;
        const value = Buffer.allocUnsafe(k.end - k.start);
        readSync(fd, value, 0, value.length, k.start);
        const payload = dumpOfRaw(k.type, value, info.version);
        const args = ['RESTORE', Buffer.from(k.key, 'latin1'), k.expireAt === 0 ? '0' : String(k.expireAt), payload];
        if (o.replace) args.push('REPLACE');
        if (k.expireAt !== 0) args.push('ABSTTL');
        try {
          await conn.sendCommand(args);
          report.imported++;
          if (k.expireAt !== 0) report.withTtl++;
        } catch (e) {
          report.failed.push([k.key, (e as Error).message]);
        }
        bar?.increment();
      }
    };
    await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, keys.length) }, worker));
  } finally {
    closeSync(fd);
    bar?.stop();
  }
  return report;
}
