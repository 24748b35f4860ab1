import { existsSync, fdatasyncSync, ftruncateSync, openSync, closeSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { RespaiError } from '../errors.js';
import type { Engine } from '../engine/engine.js';
import { AofWriter, type FsyncPolicy } from './aof.js';
import type { DurableKeyspace, MutationListener } from './durable.js';
import { AtomicFile, datasync } from './files.js';
import { encodeMutation, type Mutation } from './format.js';
import { scanFile, type ScanResult } from './reader.js';
import { Staging, materialize } from './restore.js';
import { captureEntries, fileBatches, writeSnapshot, writeSnapshotSync } from './snapshot.js';

export interface SavePoint {
  readonly seconds: number;
  readonly changes: number;
}

/** The persistence settings (redis.conf names in comments); read again whenever they matter. */
export interface PersistenceConfig {
  /** `dir`: where both files live (relative paths resolve from the process's working directory). */
  readonly dir: string;
  /** `dbfilename`: the snapshot. */
  readonly dbfilename: string;
  /** `appendonly`. */
  readonly appendonly: boolean;
  /** `appendfilename`. */
  readonly appendfilename: string;
  /** `appendfsync`. */
  readonly appendfsync: FsyncPolicy;
  /** `auto-aof-rewrite-percentage` (0 disables automatic rewrites). */
  readonly autoAofRewritePercentage: number;
  /** `auto-aof-rewrite-min-size` in bytes. */
  readonly autoAofRewriteMinSize: number;
  /** `save`: snapshot after `changes` writes within `seconds` (empty: never automatically). */
  readonly save: readonly SavePoint[];
}

export interface PersistenceLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export interface PersistenceOptions {
  keyspace: DurableKeyspace;
  engine: Engine;
  config: () => PersistenceConfig;
  log: PersistenceLogger;
  /**
   * The AOF could not be written or fsynced under `appendfsync always`: acknowledged writes can no
   * longer be guaranteed, so the embedder should stop the process (Redis exits too). Replies
   * waiting for the fsync are never released.
   */
  onFatal?: (e: Error) => void;
  /** The repair command named in the message about a corrupt AOF. */
  repairCommand?: (path: string) => string;
}

/** Why the server cannot start: a corrupt file, a model that cannot be re-created... */
export class PersistenceLoadError extends Error {}

export interface LoadReport {
  source: 'aof' | 'snapshot' | 'none';
  path?: string;
  keys: number;
  expired: number;
  records: number;
  /** Bytes dropped from a truncated AOF tail. */
  truncatedBytes: number;
  ms: number;
}

const BGSAVE_RETRY_MS = 5000;

/**
 * Snapshots and the append-only file for a DurableKeyspace: loads at start, SAVE / BGSAVE /
 * BGREWRITEAOF, automatic snapshots (save points) and rewrites, the fsync policies, and the
 * `barrier` a server calls before writing replies. See docs/persistence.md.
 */
export class Persistence implements MutationListener {
  /** Writes since the last successful snapshot (rdb_changes_since_last_save). */
  dirty = 0;
  /** Unix seconds of the last successful snapshot (the start time until one is made), as LASTSAVE. */
  lastSave = Math.floor(Date.now() / 1000);
  lastBgsaveOk = true;
  lastBgsaveSeconds = -1;
  saves = 0;
  lastRewriteOk = true;
  lastRewriteSeconds = -1;
  rewrites = 0;
  aofBaseSize = 0;
  loading = false;
  lastLoad: LoadReport | undefined;
  private aof: AofWriter | undefined;
  private bgsaveStarted: number | undefined;
  private lastBgsaveTry = 0;
  private rewriteState: { buf: Buffer[]; bytes: number; started: number } | undefined;
  private closing = false;
  private loaded = false;
  private cron: NodeJS.Timeout | undefined;
  private readonly keyspace: DurableKeyspace;
  private readonly engine: Engine;
  private readonly config: () => PersistenceConfig;
  private readonly log: PersistenceLogger;
  private readonly onFatal: (e: Error) => void;
  private readonly repairCommand: (path: string) => string;

  constructor(o: PersistenceOptions) {
    this.keyspace = o.keyspace;
    this.engine = o.engine;
    this.config = o.config;
    this.log = o.log;
    this.onFatal = o.onFatal ?? ((e) => this.log.error('AOF write failed under appendfsync always', { err: e.message }));
    this.repairCommand = o.repairCommand ?? ((p) => `respai-check-aof --fix ${quote(p)}`);
    o.keyspace.listener = this;
  }

  /** The snapshot's path (`dir` + `dbfilename`). */
  get snapshotPath(): string {
    const c = this.config();
    return pathIn(c.dir, c.dbfilename);
  }

  /** The append-only file's path (`dir` + `appendfilename`). */
  get aofPath(): string {
    const c = this.config();
    return pathIn(c.dir, c.appendfilename);
  }

  get bgsaveInProgress(): boolean {
    return this.bgsaveStarted !== undefined;
  }

  get rewriteInProgress(): boolean {
    return this.rewriteState !== undefined;
  }

  get aofOpen(): boolean {
    return this.aof !== undefined;
  }

  mutated(m: Mutation): void {
    this.dirty++;
    const aof = this.aof;
    const rw = this.rewriteState;
    if (aof === undefined && rw === undefined) return;
    const f = encodeMutation(m, this.engine.config.modelChunkSize);
    aof?.append(f.parts, f.bytes);
    if (rw !== undefined) {
      for (const p of f.parts) rw.buf.push(p);
      rw.bytes += f.bytes;
    }
  }

  /**
   * Loads the data set, once, before the server accepts connections: the AOF when `appendonly`
   * is on and it exists (it is the most complete), else the snapshot. Then opens the AOF (writing
   * it from the loaded data when it does not exist yet) and starts the timers. Throws
   * PersistenceLoadError with a message for the operator when a file cannot be used.
   */
  async load(): Promise<LoadReport> {
    const t0 = Date.now();
    const cfg = this.config();
    const staging = new Staging();
    let report: LoadReport = { source: 'none', keys: 0, expired: 0, records: 0, truncatedBytes: 0, ms: 0 };
    this.loading = true;
    try {
      const aofPath = this.aofPath;
      const rdbPath = this.snapshotPath;
      if (cfg.appendonly && existsSync(aofPath)) {
        const r = this.read(aofPath, staging);
        if (r.kind === 'snapshot') throw new PersistenceLoadError(`'${aofPath}' is a snapshot, not an append-only file: check appendfilename and dbfilename`);
        if (r.problem?.type === 'corrupt') {
          throw new PersistenceLoadError(
            `Bad file format reading the append only file '${aofPath}': ${r.problem.reason} at offset ${r.problem.offset}` +
              ` (record ${r.problem.record}); the first ${r.validEnd} of ${r.fileSize} bytes are good. ` +
              `Make a backup of the file, then run: ${this.repairCommand(aofPath)}`,
          );
        }
        let truncatedBytes = 0;
        if (r.problem?.type === 'truncated') {
          truncatedBytes = r.fileSize - r.validEnd;
          this.log.warn(
            `The append only file '${aofPath}' ends with an incomplete record (a crash while writing?): ${r.problem.reason}. ` +
              `Loaded the ${r.records} complete records before offset ${r.validEnd}; removing the last ${truncatedBytes} bytes.`,
          );
          truncateTo(aofPath, r.validEnd);
        }
        report = { ...report, source: 'aof', path: aofPath, records: r.records, truncatedBytes };
      } else if (existsSync(rdbPath)) {
        const r = this.read(rdbPath, staging);
        if (r.kind === 'aof') throw new PersistenceLoadError(`'${rdbPath}' is an append-only file, not a snapshot: check dbfilename and appendfilename`);
        if (r.problem !== undefined) {
          throw new PersistenceLoadError(
            `Bad file format reading the snapshot '${rdbPath}': ${r.problem.reason} at offset ${r.problem.offset}` +
              ` (record ${r.problem.record}). A snapshot is only ever renamed into place complete, so this file was damaged` +
              ` after it was written: restore it from a backup or move it away (respai-check-aof ${quote(rdbPath)} shows where it breaks).`,
          );
        }
        report = { ...report, source: 'snapshot', path: rdbPath, records: r.records };
      }
      let m;
      try {
        m = await materialize(staging, this.keyspace.inner, this.engine);
      } catch (e) {
        throw new PersistenceLoadError(`Cannot load '${report.path}': ${(e as Error).message}`, { cause: e });
      }
      report = { ...report, keys: m.keys, expired: m.expired, ms: Date.now() - t0 };
      if (report.source !== 'none') {
        this.log.info(`DB loaded from ${report.source === 'aof' ? 'append only file' : 'disk'}: ${(report.ms / 1000).toFixed(3)} seconds`, {
          path: report.path,
          keys: report.keys,
          expired: report.expired,
          records: report.records,
        });
      }
      if (cfg.appendonly) {
        if (!existsSync(aofPath)) {
          // Like Redis 7: AOF on but no AOF yet, so write one holding what was loaded.
          this.writeAofSync(aofPath);
          this.log.info('Creating AOF file', { path: aofPath, keys: report.keys });
        }
        this.openAof(aofPath);
      }
    } finally {
      this.loading = false;
    }
    this.dirty = 0;
    this.loaded = true;
    this.lastLoad = report;
    this.cron ??= setInterval(() => this.tick(), 100); // like Redis's serverCron at hz 10
    this.cron.unref();
    return report;
  }

  private read(path: string, staging: Staging): ScanResult {
    try {
      return scanFile(path, (rec) => staging.apply(rec));
    } catch (e) {
      throw new PersistenceLoadError(`Cannot read '${path}': ${(e as Error).message}`, { cause: e });
    }
  }

  private openAof(path: string): void {
    const cfg = this.config();
    this.aof = AofWriter.open(path, cfg.appendfsync, (e, fatal) => {
      this.log.error(fatal ? "Can't write the append only file under appendfsync always" : 'Error writing the append only file (will retry)', {
        path,
        err: e.message,
      });
      if (fatal) this.onFatal(e);
    });
    this.aofBaseSize = this.aof.size;
  }

  private writeAofSync(path: string): void {
    const f = new AtomicFile(path);
    try {
      for (const b of fileBatches('aof', captureEntries(this.keyspace.inner), this.engine.config.modelChunkSize)) f.writeSync(b);
      f.commitSync();
    } catch (e) {
      f.abort();
      throw e;
    }
  }

  /**
   * Called before replies go out: a promise when they must wait for the AOF fsync (`always`),
   * otherwise undefined (pending records are written to the file first).
   */
  barrier(): Promise<void> | undefined {
    return this.aof?.barrier();
  }

  /** SAVE: a synchronous snapshot. */
  save(): void {
    if (this.bgsaveInProgress) throw new RespaiError('ERR Background save already in progress');
    this.saveNow();
  }

  private saveNow(): void {
    const dirtyAt = this.dirty;
    try {
      writeSnapshotSync(this.snapshotPath, captureEntries(this.keyspace.inner), this.engine.config.modelChunkSize);
    } catch (e) {
      this.log.error('Failed saving the snapshot', { path: this.snapshotPath, err: (e as Error).message });
      throw new RespaiError(`ERR ${(e as Error).message}`);
    }
    this.dirty -= dirtyAt;
    this.lastSave = Math.floor(Date.now() / 1000);
    this.saves++;
    this.log.info('DB saved on disk', { path: this.snapshotPath });
  }

  /**
   * BGSAVE: captures the keyspace now (references: the snapshot is of this instant) and writes
   * it while clients keep being served. Resolves when written; throws at once if one is running.
   */
  bgsave(): Promise<void> {
    if (this.bgsaveInProgress) throw new RespaiError('ERR Background save already in progress');
    const started = Date.now();
    this.bgsaveStarted = started;
    this.lastBgsaveTry = started;
    const dirtyAt = this.dirty;
    const entries = captureEntries(this.keyspace.inner);
    const path = this.snapshotPath;
    this.log.info('Background saving started', { keys: entries.length });
    return writeSnapshot(path, entries, this.engine.config.modelChunkSize, () => this.closing).then(
      () => {
        this.bgsaveStarted = undefined;
        this.dirty -= dirtyAt;
        this.lastSave = Math.floor(Date.now() / 1000);
        this.lastBgsaveOk = true;
        this.lastBgsaveSeconds = Math.round((Date.now() - started) / 1000);
        this.saves++;
        this.log.info('Background saving terminated with success', { path });
      },
      (e: Error) => {
        this.bgsaveStarted = undefined;
        if (this.closing) return;
        this.lastBgsaveOk = false;
        this.log.error('Background saving error', { path, err: e.message });
        throw e;
      },
    );
  }

  /**
   * BGREWRITEAOF: writes a new AOF holding the keyspace as of now plus every record appended
   * while it is written, then renames it over the old one and appends there. Works with
   * `appendonly no` too (it only writes the file). Throws at once if a rewrite is running.
   */
  bgrewriteaof(): Promise<void> {
    if (this.rewriteInProgress) throw new RespaiError('ERR Background append only file rewriting already in progress');
    const started = Date.now();
    const state = { buf: [] as Buffer[], bytes: 0, started };
    this.rewriteState = state;
    const entries = captureEntries(this.keyspace.inner);
    const path = this.aofPath;
    this.log.info('Background append only file rewriting started', { keys: entries.length });
    const take = () => {
      const parts = state.buf;
      state.buf = [];
      state.bytes = 0;
      return parts;
    };
    const run = async () => {
      const f = new AtomicFile(path);
      try {
        for (const b of fileBatches('aof', entries, this.engine.config.modelChunkSize)) {
          if (this.closing) throw new Error('cancelled');
          await f.write(b);
        }
        // Catch up with what was appended meanwhile, then fsync the bulk off the event loop.
        while (state.bytes > 1 << 20 && !this.closing) await f.write(take());
        await f.write(take());
        await datasync(f.fd);
        for (;;) {
          if (this.closing) throw new Error('cancelled');
          const aof = this.aof;
          if (aof === undefined || !aof.syncInFlight) break;
          await aof.idle();
        }
        // From here to the end nothing awaits: no record can slip between the file and the swap.
        f.writeSync(take());
        f.commitSync();
        this.rewriteState = undefined;
        if (this.config().appendonly) {
          if (this.aof !== undefined && this.aof.path === path) this.aof.swap(path);
          else {
            this.aof?.close();
            this.openAof(path);
          }
        }
        this.aofBaseSize = this.aof?.size ?? f.bytes;
        this.lastRewriteOk = true;
        this.lastRewriteSeconds = Math.round((Date.now() - started) / 1000);
        this.rewrites++;
        this.log.info('Background AOF rewrite terminated with success', { path, bytes: f.bytes });
      } catch (e) {
        f.abort();
        if (this.rewriteState === state) this.rewriteState = undefined;
        if (this.closing) return;
        this.lastRewriteOk = false;
        this.log.error('Background AOF rewrite failed', { path, err: (e as Error).message });
        throw e;
      }
    };
    return run();
  }

  /** CONFIG SET of a persistence option took effect. */
  configChanged(name: 'appendonly' | 'appendfsync'): void {
    const cfg = this.config();
    if (name === 'appendfsync' && this.aof !== undefined) this.aof.policy = cfg.appendfsync;
    if (name === 'appendonly') {
      if (cfg.appendonly && this.aof === undefined && !this.rewriteInProgress) {
        // Like Redis: the AOF starts as a rewrite of the current data set.
        this.bgrewriteaof().catch(() => undefined);
      } else if (!cfg.appendonly && this.aof !== undefined) {
        const aof = this.aof;
        this.aof = undefined;
        try {
          aof.close();
        } catch (e) {
          this.log.error('Error closing the append only file', { err: (e as Error).message });
        }
      }
    }
  }

  private tick(): void {
    if (this.closing || this.loading) return;
    const cfg = this.config();
    const now = Date.now();
    if (!this.bgsaveInProgress && this.dirty > 0) {
      const due = cfg.save.some((p) => this.dirty >= p.changes && now - this.lastSave * 1000 >= p.seconds * 1000);
      const retryOk = this.lastBgsaveOk || now - this.lastBgsaveTry >= BGSAVE_RETRY_MS;
      if (due && retryOk) this.bgsave().catch(() => undefined);
    }
    const aof = this.aof;
    if (aof !== undefined && !this.rewriteInProgress && cfg.autoAofRewritePercentage > 0 && aof.size > cfg.autoAofRewriteMinSize) {
      const base = this.aofBaseSize || 1;
      const growth = ((aof.size - base) * 100) / base;
      if (growth >= cfg.autoAofRewritePercentage) {
        this.log.info(`Starting automatic rewriting of AOF on ${Math.floor(growth)}% growth`);
        this.bgrewriteaof().catch(() => undefined);
      }
    }
  }

  /**
   * Shutdown, synchronously so nothing else runs in between: a snapshot when `save` is true, or
   * when it is undefined and save points are configured; then the AOF is written, fsynced and
   * closed. Throws (and stays usable) when the snapshot fails, like Redis refusing to shut down.
   * Background saves and rewrites are abandoned (their temp files removed).
   */
  shutdown(save?: boolean): void {
    const cfg = this.config();
    // Before (or without) a complete load, a snapshot would replace good data with a partial set.
    if (this.loaded && (save === true || (save === undefined && cfg.save.length > 0))) this.saveNow();
    if (this.aof !== undefined) {
      this.aof.close();
      this.aof = undefined;
    }
    this.closing = true;
    if (this.cron !== undefined) clearInterval(this.cron);
  }

  /** INFO persistence fields (Redis's names). */
  info(): Record<string, string | number> {
    const now = Date.now();
    const aof = this.aof;
    const fields: Record<string, string | number> = {
      loading: this.loading ? 1 : 0,
      async_loading: 0,
      rdb_changes_since_last_save: this.dirty,
      rdb_bgsave_in_progress: this.bgsaveInProgress ? 1 : 0,
      rdb_last_save_time: this.lastSave,
      rdb_last_bgsave_status: this.lastBgsaveOk ? 'ok' : 'err',
      rdb_last_bgsave_time_sec: this.lastBgsaveSeconds,
      rdb_current_bgsave_time_sec: this.bgsaveStarted === undefined ? -1 : Math.round((now - this.bgsaveStarted) / 1000),
      rdb_saves: this.saves,
      aof_enabled: this.config().appendonly ? 1 : 0,
      aof_rewrite_in_progress: this.rewriteInProgress ? 1 : 0,
      aof_rewrite_scheduled: 0,
      aof_last_rewrite_time_sec: this.lastRewriteSeconds,
      aof_current_rewrite_time_sec: this.rewriteState === undefined ? -1 : Math.round((now - this.rewriteState.started) / 1000),
      aof_last_bgrewrite_status: this.lastRewriteOk ? 'ok' : 'err',
      aof_rewrites: this.rewrites,
      aof_last_write_status: aof?.lastWriteError === undefined ? 'ok' : 'err',
    };
    if (aof !== undefined) {
      Object.assign(fields, {
        aof_current_size: aof.size,
        aof_base_size: this.aofBaseSize,
        aof_pending_rewrite: 0,
        aof_buffer_length: aof.buffered,
        aof_pending_bio_fsync: aof.syncInFlight ? 1 : 0,
        aof_delayed_fsync: 0,
        aof_fsync_policy: aof.policy,
        aof_fsyncs: aof.fsyncs,
      });
    }
    return fields;
  }
}

function pathIn(dir: string, name: string): string {
  return isAbsolute(name) ? name : join(resolve(dir), name);
}

function quote(p: string): string {
  return /^[\w./-]+$/.test(p) ? p : `'${p.replace(/'/g, `'\\''`)}'`;
}

/** Cuts a file to `length` bytes and fsyncs it (dropping a torn AOF tail before appending). */
export function truncateTo(path: string, length: number): void {
  const fd = openSync(path, 'r+');
  try {
    ftruncateSync(fd, length);
    fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
