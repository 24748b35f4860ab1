import { existsSync, fdatasyncSync, ftruncateSync, openSync, closeSync, readFileSync, readSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { E, RespaiError } from '../errors.js';
import type { Engine } from '../engine/engine.js';
import type { Key, Keyspace, Value } from '../keyspace/keyspace.js';
import { releaseValue } from '../keyspace/keyspace.js';
import { AofWriter, type FsyncPolicy } from './aof.js';
import type { DurableKeyspace, MutationListener } from './durable.js';
import { AtomicFile, datasync } from './files.js';
import { MAGIC, encodeMutation, type Mutation, type StoredValue } from './format.js';
import { RdbFileError, loadRdbFile, looksLikeRdb, type RdbKeyRecord, type RdbWriteOptions } from './rdb/file.js';
import { rdbToStored } from './rdb/stored.js';
import { scanFile, type ScanResult } from './reader.js';
import { findRedisAof, respCommands, type RedisAof } from './redis-aof.js';
import { Staging, build, materialize, printable, type Built } from './restore.js';
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
  /** `rdbcompression`: LZF-compress strings in snapshots (default true, as Redis). */
  readonly rdbcompression?: boolean;
  /**
   * `rdb-skip-unsupported-types`: an RDB file holding values respai does not hold (sets, streams,
   * other modules' types...) loads without them, counted per type in a warning, instead of
   * stopping the start (default false).
   */
  readonly rdbSkipUnsupportedTypes?: boolean;
  /** `key-load-delay` (µs): Redis's pause after every key loaded, to make loading observable in tests. */
  readonly keyLoadDelayUs?: number;
}

/** The name respai's snapshots had before they became RDB files (still loaded, converted once). */
export const LEGACY_SNAPSHOT = 'dump.respai';

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
  /** AUX fields written first in every snapshot (`redis-ver`, `respai-ver`...), before Redis's others. */
  aux?: () => readonly (readonly [string, string])[];
  /** While an RDB file loads, serve the event loop every this many ms (default 50; 0: after every key). */
  loadYieldMs?: number;
  /**
   * Runs one command of a Redis append-only file being imported (the server's command table, on
   * the keyspace); rejects (or throws) with the error the command got. Without it, a Redis AOF
   * of RESP commands cannot be imported.
   */
  replay?: (argv: Buffer[]) => unknown;
}

/** INFO's loading_* fields while a data set loads. */
interface LoadingState {
  startedAt: number;
  totalBytes: number;
  loadedBytes: number;
  usedMem: number;
  lastLog: number;
}

/** Why the server cannot start: a corrupt file, a model that cannot be re-created... */
export class PersistenceLoadError extends Error {}

export interface LoadReport {
  source: 'aof' | 'snapshot' | 'none';
  path?: string;
  /** The snapshot's format: an RDB file, or respai's format of before. */
  format?: 'rdb' | 'respai';
  keys: number;
  /** Values of types respai does not hold, skipped (rdb-skip-unsupported-types), per type. */
  skipped?: Record<string, number>;
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
  private loadingState: LoadingState | undefined;
  /** While DEBUG RELOAD builds its values: the keys written meanwhile (kept as they are). */
  private reloadWatch: { keys: Set<Key>; cleared: boolean } | undefined;
  private readonly aux: () => readonly (readonly [string, string])[];
  private readonly loadYieldMs: number;
  private readonly replay: ((argv: Buffer[]) => unknown) | undefined;
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
    this.repairCommand = o.repairCommand ?? ((p) => `respai-check-aof --fix ${shellQuote(p)}`);
    this.aux = o.aux ?? (() => []);
    this.loadYieldMs = o.loadYieldMs ?? 50;
    this.replay = o.replay;
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
    const watch = this.reloadWatch;
    if (watch !== undefined) {
      if (m.op === 'clear') watch.cleared = true;
      else if (m.op === 'rename') watch.keys.add(m.from).add(m.to);
      else watch.keys.add(m.key);
    }
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
   * Loads the data set, once, before the server serves commands: the AOF when `appendonly` is on
   * and it exists (it is the most complete), else the snapshot (an RDB file, or respai's format
   * of before: a `dump.respai` found instead of the configured snapshot is loaded and converted
   * once). Then opens the AOF (writing it from the loaded data when it does not exist yet) and
   * starts the timers. Throws PersistenceLoadError with a message for the operator when a file
   * cannot be used.
   */
  async load(): Promise<LoadReport> {
    const t0 = Date.now();
    const cfg = this.config();
    const staging = new Staging();
    let report: LoadReport = { source: 'none', keys: 0, expired: 0, records: 0, truncatedBytes: 0, ms: 0 };
    let convertFrom: string | undefined;
    this.loading = true;
    try {
      const aofPath = this.aofPath;
      const rdbPath = this.snapshotPath;
      const legacy = join(dirname(rdbPath), LEGACY_SNAPSHOT);
      const redisAof = cfg.appendonly && !existsSync(aofPath) ? this.findRedisAof() : undefined;
      if (redisAof !== undefined) {
        report = { ...report, ...(await this.importRedisAof(redisAof, staging)) };
      } else if (cfg.appendonly && existsSync(aofPath)) {
        const size = statSync(aofPath).size;
        this.loadingState = { startedAt: Date.now(), totalBytes: size, loadedBytes: 0, usedMem: 0, lastLog: Date.now() };
        const r = this.read(aofPath, staging);
        this.loadingState.loadedBytes = size;
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
        report = { ...report, ...(await this.readSnapshot(rdbPath, staging, this.keyspace.inner)) };
        if (report.format === 'respai') {
          this.log.warn(`'${rdbPath}' is a snapshot in respai's format of before; it was loaded, and snapshots are now written as RDB files (this name too)`);
        }
      } else if (rdbPath !== legacy && existsSync(legacy)) {
        // The default snapshot used to be dump.respai: load it and write the RDB file right away.
        report = { ...report, ...(await this.readSnapshot(legacy, staging)) };
        convertFrom = legacy;
      }
      let m;
      try {
        m = await materialize(staging, this.keyspace.inner, this.engine);
      } catch (e) {
        throw new PersistenceLoadError(`Cannot load '${report.path}': ${(e as Error).message}`, { cause: e });
      }
      if (redisAof !== undefined) await this.replayRedisAof(redisAof);
      m = { ...m, keys: this.keyspace.inner.size, expired: m.expired + report.expired };
      report = { ...report, keys: m.keys, expired: m.expired, ms: Date.now() - t0 };
      if (report.source !== 'none') {
        if (report.source === 'snapshot' && report.format === 'rdb') this.log.info(`Done loading RDB, keys loaded: ${m.keys}, keys expired: ${m.expired}.`);
        this.log.info(`DB loaded from ${report.source === 'aof' ? 'append only file' : 'disk'}: ${(report.ms / 1000).toFixed(3)} seconds`, {
          path: report.path,
          keys: report.keys,
          expired: report.expired,
          records: report.records,
          models: m.models,
          scripts: m.scripts,
        });
      }
      if (convertFrom !== undefined) {
        this.saveNow();
        this.log.warn(
          `Converted the respai-format snapshot '${convertFrom}' to the RDB file '${rdbPath}' (${m.keys} keys). ` +
            `'${convertFrom}' is no longer read and can be removed.`,
        );
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
      this.loadingState = undefined;
    }
    this.dirty = 0;
    this.loaded = true;
    this.lastLoad = report;
    this.cron ??= setInterval(() => this.tick(), 100); // like Redis's serverCron at hz 10
    this.cron.unref();
    return report;
  }

  private findRedisAof(): RedisAof | undefined {
    try {
      return findRedisAof(resolve(this.config().dir));
    } catch (e) {
      throw new PersistenceLoadError(`Cannot import Redis's append-only files: ${(e as Error).message}`, { cause: e });
    }
  }

  /** The RDB base of a Redis AOF folder, into `staging` (its RESP files replay after it is built). */
  private async importRedisAof(aof: RedisAof, staging: Staging): Promise<Partial<LoadReport>> {
    this.log.warn(`No '${this.config().appendfilename}' yet, but Redis's append-only files are here (${aof.manifest}): importing them, then writing respai's own AOF`);
    if (aof.base?.format === 'rdb') return { ...(await this.readRdb(aof.base.path, staging, this.keyspace.inner)), source: 'aof', path: aof.manifest };
    return { source: 'aof', path: aof.manifest };
  }

  /** The RESP commands of a Redis AOF folder (base and incremental files), through `replay`. */
  private async replayRedisAof(aof: RedisAof): Promise<void> {
    const files = [...(aof.base?.format === 'resp' ? [aof.base.path] : []), ...aof.incr];
    let n = 0;
    for (const path of files) {
      let parsed;
      try {
        parsed = respCommands(readFileSync(path), path);
      } catch (e) {
        throw new PersistenceLoadError((e as Error).message, { cause: e });
      }
      if (parsed.truncatedAt !== undefined) {
        this.log.warn(`'${path}' ends with an incomplete command (a crash while writing?): loaded the commands before offset ${parsed.truncatedAt}`);
      }
      if (parsed.commands.length > 0 && this.replay === undefined) throw new PersistenceLoadError(`Cannot import '${path}': this server cannot replay commands`);
      for (const argv of parsed.commands) {
        try {
          await this.replay!(argv);
        } catch (e) {
          throw new PersistenceLoadError(
            `Cannot import '${path}': command ${n + 1} (${argv[0]!.toString('latin1').slice(0, 40)}) failed: ${(e as Error).message}`,
            { cause: e },
          );
        }
        n++;
      }
    }
    this.log.info(`Imported Redis's append-only files: ${n} commands replayed`, { manifest: aof.manifest });
  }

  private read(path: string, staging: Staging): ScanResult {
    try {
      return scanFile(path, (rec) => staging.apply(rec));
    } catch (e) {
      throw new PersistenceLoadError(`Cannot read '${path}': ${(e as Error).message}`, { cause: e });
    }
  }

  /** Reads a snapshot, RDB or respai-format (told apart by their first bytes), into `staging`. */
  private async readSnapshot(path: string, staging: Staging, direct?: Keyspace): Promise<Partial<LoadReport>> {
    const head = Buffer.alloc(9);
    const fd = openSync(path, 'r');
    let n: number;
    try {
      n = readSync(fd, head, 0, 9, 0);
    } finally {
      closeSync(fd);
    }
    if (n >= 6 && head.subarray(0, 6).equals(MAGIC)) {
      const r = this.read(path, staging);
      if (r.kind === 'aof') throw new PersistenceLoadError(`'${path}' is an append-only file, not a snapshot: check dbfilename and appendfilename`);
      if (r.problem !== undefined) {
        throw new PersistenceLoadError(
          `Bad file format reading the snapshot '${path}': ${r.problem.reason} at offset ${r.problem.offset}` +
            ` (record ${r.problem.record}). A snapshot is only ever renamed into place complete, so this file was damaged` +
            ` after it was written: restore it from a backup or move it away (respai-check-aof ${shellQuote(path)} shows where it breaks).`,
        );
      }
      return { source: 'snapshot', path, format: 'respai', records: r.records };
    }
    if (!looksLikeRdb(head.subarray(0, n))) {
      throw new PersistenceLoadError(`'${path}' is neither an RDB file nor a respai snapshot (it starts with ${JSON.stringify(head.subarray(0, n).toString('latin1'))}): check dbfilename`);
    }
    return this.readRdb(path, staging, direct);
  }

  /**
   * Reads an RDB file into `staging`, yielding to the event loop every 50 ms (INFO answers
   * `loading:1` meanwhile) and logging progress every 5 s. Values of types respai does not hold
   * stop the load, unless rdb-skip-unsupported-types says to skip them. With `direct` (loading at
   * start, where a failure ends the process anyway), strings and tensors go straight into that
   * keyspace (an RDB file has each key once), and only models and scripts wait in `staging` for
   * their backends.
   */
  private async readRdb(path: string, staging: Staging, direct?: Keyspace): Promise<Partial<LoadReport>> {
    const skipOk = this.config().rdbSkipUnsupportedTypes === true;
    const skipped = new Map<string, number>();
    const examples: string[] = [];
    let records = 0;
    let expired = 0;
    const now = Date.now();
    const total = statSync(path).size;
    const state: LoadingState = { startedAt: Date.now(), totalBytes: total, loadedBytes: 0, usedMem: 0, lastLog: Date.now() };
    if (this.loading) this.loadingState = state;
    let empty = 0;
    const onKey = (rec: RdbKeyRecord) => {
      records++;
      if ((rec.value.kind === 'list' || rec.value.kind === 'hash') && rec.value.value.length === 0) {
        // Redis skips empty keys (older versions could write them), with a warning.
        if (empty++ < 10) this.log.warn(`rdbLoadObject skipping empty key: ${printable(rec.key)}`);
        return;
      }
      const stored = storedValue(rec);
      if (stored === undefined) {
        const what = rec.db !== 0 ? `database ${rec.db}` : kindName(rec);
        if (!skipOk) throw new UnsupportedValue(rec.key, what, rec.db);
        skipped.set(what, (skipped.get(what) ?? 0) + 1);
        if (examples.length < 5) examples.push(`'${printable(rec.key)}' (${what})`);
        return;
      }
      if (direct !== undefined && stored.type !== 'model' && stored.type !== 'script') {
        if (rec.expireAt !== 0 && rec.expireAt <= now) expired++;
        else direct.set(rec.key, stored as Value, rec.expireAt === 0 ? {} : { expireAt: rec.expireAt });
        return;
      }
      staging.apply({ op: 'set', key: rec.key, value: stored, expireAt: rec.expireAt });
    };
    try {
      await loadRdbFile(path, {
        onKey,
        onAux: (k, v) => {
          if (k === 'redis-ver') this.log.info(`Loading RDB produced by version ${v}`);
          else if (k === 'used-mem') state.usedMem = Number(v) || 0;
          else if (k === 'ctime') this.log.info(`RDB age ${Math.max(0, Math.floor(Date.now() / 1000) - Number(v))} seconds`);
        },
        onProgress: (loaded) => {
          state.loadedBytes = loaded;
          const now = Date.now();
          if (now - state.lastLog >= 5000) {
            state.lastLog = now;
            this.log.info(`Loading '${basename(path)}': ${((loaded * 100) / Math.max(1, total)).toFixed(1)}% (${mib(loaded)} of ${mib(total)} MiB, ${records} keys)`);
          }
        },
        yieldEveryMs: this.loadYieldMs,
        keyDelayMs: (this.config().keyLoadDelayUs ?? 0) / 1000,
      });
    } catch (e) {
      if (e instanceof UnsupportedValue) {
        throw new PersistenceLoadError(
          `Cannot load '${path}': it holds the key '${printable(e.key)}' ${e.db !== 0 ? `in ${e.what}; respai has database 0 only` : `of type ${e.what}, which respai does not hold`}. ` +
            `To start without such keys, set rdb-skip-unsupported-types yes (--rdb-skip-unsupported-types yes): they are then skipped, ` +
            `counted per type in a warning, and gone from the next snapshot.`,
        );
      }
      if (e instanceof RdbFileError) {
        throw new PersistenceLoadError(
          `Bad file format reading the snapshot '${path}': ${e.message} at offset ${e.offset}. ` +
            `Restore it from a backup or move it away (respai-check-aof ${shellQuote(path)} checks it).`,
          { cause: e },
        );
      }
      throw new PersistenceLoadError(`Cannot read '${path}': ${(e as Error).message}`, { cause: e });
    }
    state.loadedBytes = total;
    if (skipped.size > 0) {
      const n = [...skipped.values()].reduce((a, b) => a + b, 0);
      this.log.warn(
        `Skipped ${n} key${n === 1 ? '' : 's'} of '${path}' that respai does not hold (rdb-skip-unsupported-types yes): ` +
          [...skipped].map(([t, c]) => `${t}: ${c}`).join(', ') +
          `; for example ${examples.join(', ')}. The next snapshot will not have them.`,
      );
    }
    return { source: 'snapshot', path, format: 'rdb', records, expired, ...(skipped.size > 0 ? { skipped: Object.fromEntries(skipped) } : {}) };
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

  /** How snapshots are written now (AUX fields carry the time and memory of this moment). */
  private rdbOptions(): RdbWriteOptions {
    const m = process.memoryUsage();
    const extra = this.aux();
    const has = (k: string) => extra.some(([name]) => name === k);
    const aux: [string, string][] = [];
    if (!has('redis-ver')) aux.push(['redis-ver', '7.0.15']);
    aux.push(...extra.filter(([k]) => k === 'redis-ver').map(([k, v]) => [k, v] as [string, string]));
    aux.push(['redis-bits', '64'], ['ctime', String(Math.floor(Date.now() / 1000))], ['used-mem', String(m.heapUsed + m.external)], ['aof-base', '0']);
    aux.push(...extra.filter(([k]) => k !== 'redis-ver').map(([k, v]) => [k, v] as [string, string]));
    return { modelChunkSize: this.engine.config.modelChunkSize, compress: this.config().rdbcompression ?? true, aux };
  }

  /**
   * DEBUG RELOAD: saves the snapshot (unless `save` is false), then loads it again, building every
   * value (models and scripts through their backends) before anything changes, then swapping them
   * in at once. Unlike Redis, clients are served meanwhile: a key written while the reload builds
   * keeps what was written. `flush` (default true) removes the keys the file does not have;
   * without it, a key both in memory and in the file is an error unless `merge`. When the result
   * may differ from what the AOF says (NOSAVE, NOFLUSH), the AOF is rewritten.
   */
  reload(o: { save?: boolean; flush?: boolean; merge?: boolean } = {}): Promise<{ keys: number; models: number }> {
    if (this.reloadWatch !== undefined) throw new RespaiError(E.reloadInProgress);
    // Saving is synchronous (its failure is thrown here, before anything else happens).
    if (o.save !== false) this.saveNow();
    return this.reloadSnapshot(o);
  }

  private async reloadSnapshot(o: { save?: boolean; flush?: boolean; merge?: boolean }): Promise<{ keys: number; models: number }> {
    const flush = o.flush !== false;
    const path = this.snapshotPath;
    if (!existsSync(path)) throw new PersistenceLoadError(`no snapshot at '${path}'`);
    const watch = { keys: new Set<Key>(), cleared: false };
    if (this.reloadWatch !== undefined) throw new RespaiError(E.reloadInProgress);
    this.reloadWatch = watch;
    let built: Built;
    try {
      const staging = new Staging();
      await this.readSnapshot(path, staging);
      built = await build(staging, this.engine);
    } finally {
      this.reloadWatch = undefined;
    }
    const inner = this.keyspace.inner;
    const release = () => {
      for (const [, v] of built.entries) releaseValue(v);
    };
    if (watch.cleared) {
      // FLUSHALL while building: what was built is older than what the clients asked for.
      release();
      return { keys: 0, models: 0 };
    }
    const fresh = built.entries.filter(([k]) => !watch.keys.has(k));
    if (!flush && o.merge !== true) {
      const dup = fresh.find(([k]) => inner.has(k));
      if (dup !== undefined) {
        release();
        throw new PersistenceLoadError(`the snapshot has the key '${printable(dup[0])}', which is also in memory (NOFLUSH without MERGE)`);
      }
    }
    for (const [k, v] of built.entries) if (watch.keys.has(k)) releaseValue(v);
    if (flush) {
      const keep = new Set<Key>(built.entries.map(([k]) => k));
      for (const k of [...inner.keys()]) if (!keep.has(k) && !watch.keys.has(k)) inner.delete(k);
    }
    for (const [k, v, expireAt] of fresh) inner.set(k, v, expireAt === 0 ? {} : { expireAt });
    this.log.info('DB reloaded by DEBUG RELOAD', { path, keys: fresh.length, models: built.models, scripts: built.scripts });
    if ((o.save === false || !flush) && this.aof !== undefined && !this.rewriteInProgress) this.bgrewriteaof().catch(() => undefined);
    return { keys: fresh.length, models: built.models };
  }

  /** SAVE: a synchronous snapshot. */
  save(): void {
    if (this.bgsaveInProgress) throw new RespaiError(E.bgsaveInProgress);
    this.saveNow();
  }

  private saveNow(): void {
    const dirtyAt = this.dirty;
    try {
      writeSnapshotSync(this.snapshotPath, captureEntries(this.keyspace.inner), this.rdbOptions());
    } catch (e) {
      this.log.error('Failed saving the snapshot', { path: this.snapshotPath, err: (e as Error).message });
      throw new RespaiError(E.saveFailed((e as Error).message));
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
    if (this.bgsaveInProgress) throw new RespaiError(E.bgsaveInProgress);
    const started = Date.now();
    this.bgsaveStarted = started;
    this.lastBgsaveTry = started;
    const dirtyAt = this.dirty;
    const entries = captureEntries(this.keyspace.inner);
    const path = this.snapshotPath;
    this.log.info('Background saving started', { keys: entries.length });
    return writeSnapshot(path, entries, this.rdbOptions(), () => this.closing).then(
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
    if (this.rewriteInProgress) throw new RespaiError(E.aofRewriteInProgress);
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
    const ls = this.loadingState;
    if (this.loading && ls !== undefined) {
      // Redis's loading_* fields (its formulas), after the AOF ones.
      const elapsed = Math.floor((now - ls.startedAt) / 1000);
      const remaining = ls.totalBytes - ls.loadedBytes;
      Object.assign(fields, {
        loading_start_time: Math.floor(ls.startedAt / 1000),
        loading_total_bytes: ls.totalBytes,
        loading_rdb_used_mem: ls.usedMem,
        loading_loaded_bytes: ls.loadedBytes,
        loading_loaded_perc: ((ls.loadedBytes / (ls.totalBytes + 1)) * 100).toFixed(2),
        loading_eta_seconds: elapsed === 0 ? 1 : Math.floor((elapsed * remaining) / (ls.loadedBytes + 1)),
      });
    }
    return fields;
  }
}

/** A key of a type respai does not hold, met while loading an RDB file. */
class UnsupportedValue extends Error {
  constructor(
    readonly key: Key,
    readonly what: string,
    readonly db: number,
  ) {
    super(`unsupported value at ${key}`);
  }
}

/** The value as staging holds it, or undefined for what respai does not hold (yet). */
function storedValue(rec: RdbKeyRecord): StoredValue | undefined {
  if (rec.db !== 0) return undefined;
  return rdbToStored(rec.value);
}

/** A value's type as TYPE names it (module types by their type name). */
function kindName(rec: RdbKeyRecord): string {
  const v = rec.value;
  return v.kind === 'other' ? v.type : v.kind;
}

const mib = (n: number) => (n / (1 << 20)).toFixed(1);

function pathIn(dir: string, name: string): string {
  return isAbsolute(name) ? name : join(resolve(dir), name);
}

/** A path as a POSIX shell word: as it is when plain, else single-quoted (a `'` as `'\\''`). */
export function shellQuote(p: string): string {
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
