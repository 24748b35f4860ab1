import { readdirSync, readFileSync } from 'node:fs';
import { Registry, type Metric } from 'prom-client';
import type { Model, ModelJob, RunObserver, TaskJob } from '@respai/core';
import type { ServerState } from '../state.js';
import { BATCH_SIZES, Hist, RUN_SECONDS, WAIT_SECONDS } from './histogram.js';

/** The label value every key past the cap is counted under. */
export const OTHER = 'other';

/**
 * Bounded label values: the first `cap` distinct values keep their own series, later ones share
 * `other`, so a user storing a million models cannot grow the registry (or a scrape) without bound.
 */
export class LabelCap {
  private readonly seen = new Set<string>();
  constructor(readonly cap: number) {}
  label(value: string): string {
    if (this.seen.has(value)) return value;
    if (this.seen.size >= this.cap) return OTHER;
    this.seen.add(value);
    return value;
  }
}

interface ModelSeries {
  readonly labels: { key: string; backend: string; device: string };
  runs: number;
  errors: number;
  readonly seconds: Hist;
  readonly batch: Hist;
  readonly wait: Hist;
}

interface ScriptSeries {
  readonly labels: { key: string; device: string };
  runs: number;
  errors: number;
  readonly seconds: Hist;
  readonly wait: Hist;
}

export interface CommandCounts {
  calls: number;
  errors: number;
}

type Labels = Record<string, string | number>;
interface Sample {
  labels: Labels;
  value: number;
  metricName?: string;
}

/**
 * One metric family whose samples are read from plain counters at scrape time. prom-client's
 * registry formats it (escaping, HELP/TYPE lines, content type) exactly as its own metrics; the
 * run path only adds to numbers (measured: docs/benchmarks.md, "metrics").
 */
class Family {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge' | 'histogram',
    private readonly read: () => Sample[] | Promise<Sample[]>,
  ) {}
  async get() {
    return { name: this.name, help: this.help, type: this.type, values: await this.read(), aggregator: 'sum' as const };
  }
}

function histSamples(name: string, labels: Labels, h: Hist, out: Sample[]): void {
  let cumulative = 0;
  for (let i = 0; i < h.bounds.length; i++) {
    cumulative += h.counts[i]!;
    out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: h.bounds[i]! }, value: cumulative });
  }
  out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: h.count });
  out.push({ metricName: `${name}_sum`, labels, value: h.sum });
  out.push({ metricName: `${name}_count`, labels, value: h.count });
}

/**
 * The process's own metrics, under the names prom-client's default metrics use, each read when
 * scraped. Not prom-client's `collectDefaultMetrics`: its GC observer and event-loop monitor run
 * between scrapes, and cost 6-30% of the throughput of small AI runs (A/B in docs/benchmarks.md,
 * "metrics"); these cost nothing until a scrape.
 */
function processFamilies(): Family[] {
  const one = (value: number): Sample[] => [{ labels: {}, value }];
  const linux = process.platform === 'linux';
  /** A `Vm*:` line of /proc/self/status in bytes (Linux), else undefined. */
  const status = (field: string): number | undefined => {
    if (!linux) return undefined;
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
    return m === null ? undefined : Number(m[1]) * 1024;
  };
  const maybe = (v: number | undefined): Sample[] => (v === undefined ? [] : one(v));
  const started = Date.now() / 1000 - process.uptime();
  return [
    new Family('process_cpu_user_seconds_total', 'User CPU time spent, in seconds.', 'counter', () => one(process.cpuUsage().user / 1e6)),
    new Family('process_cpu_system_seconds_total', 'System CPU time spent, in seconds.', 'counter', () => one(process.cpuUsage().system / 1e6)),
    new Family('process_cpu_seconds_total', 'User and system CPU time spent, in seconds.', 'counter', () => {
      const u = process.cpuUsage();
      return one((u.user + u.system) / 1e6);
    }),
    new Family('process_start_time_seconds', 'Start time of the process since the Unix epoch, in seconds.', 'gauge', () => one(Math.round(started))),
    new Family('process_resident_memory_bytes', 'Resident memory size, in bytes.', 'gauge', () => one(process.memoryUsage.rss())),
    new Family('process_virtual_memory_bytes', 'Virtual memory size, in bytes.', 'gauge', () => maybe(status('VmSize'))),
    new Family('process_open_fds', 'Open file descriptors.', 'gauge', () => (linux ? one(readdirSync('/proc/self/fd').length) : [])),
    new Family('process_max_fds', 'Maximum number of open file descriptors.', 'gauge', () => {
      const m = linux ? /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8')) : null;
      return m === null ? [] : one(Number(m[1]));
    }),
    new Family('nodejs_heap_size_total_bytes', 'V8 heap size, in bytes.', 'gauge', () => one(process.memoryUsage().heapTotal)),
    new Family('nodejs_heap_size_used_bytes', 'V8 heap used, in bytes.', 'gauge', () => one(process.memoryUsage().heapUsed)),
    new Family('nodejs_external_memory_bytes', 'Memory of C++ objects bound to JavaScript objects (buffers, tensors), in bytes.', 'gauge', () =>
      one(process.memoryUsage().external),
    ),
    new Family('nodejs_eventloop_lag_seconds', 'How late a callback queued at scrape time ran, in seconds.', 'gauge', () => {
      const t0 = process.hrtime.bigint();
      return new Promise<Sample[]>((resolve) => setImmediate(() => resolve(one(Number(process.hrtime.bigint() - t0) / 1e9))));
    }),
    new Family('nodejs_version_info', 'Node.js version.', 'gauge', () => [
      { labels: { version: process.version, major: process.versions.node.split('.')[0]! }, value: 1 },
    ]),
  ];
}

/** Keys counted per scan page before yielding to the event loop (respai_keys). */
const KEYS_PER_TURN = 10_000;

/**
 * The server's Prometheus metrics (docs/operations.md lists each). The engine's run queues report
 * runs through {@link RunObserver}; clients count commands in {@link commands}; gauges are read
 * when scraped.
 */
export class Metrics implements RunObserver {
  readonly registry = new Registry();
  /** Per command name (every command of the table, plus `unknown`): calls and error replies. */
  readonly commands = new Map<string, CommandCounts>();
  private readonly keyLabels: LabelCap;
  private readonly deviceLabels = new LabelCap(64);
  private readonly byModel = new WeakMap<Model, ModelSeries>();
  private readonly modelSeries = new Map<string, ModelSeries>();
  private readonly byScript = new WeakMap<object, ScriptSeries>();
  private readonly scriptSeries = new Map<string, ScriptSeries>();
  private readonly batchByKey = new Map<string, Hist>();
  private readonly waitByDevice = new Map<string, Hist>();

  constructor(
    private readonly server: ServerState,
    options: { maxKeys: number; ready: () => string | undefined },
  ) {
    this.keyLabels = new LabelCap(options.maxKeys);
    for (const name of server.commands.keys()) this.commands.set(name, { calls: 0, errors: 0 });
    this.commands.set('unknown', { calls: 0, errors: 0 });
    const r = this.registry;
    const add = (f: Family) => r.registerMetric(f as unknown as Metric);
    const models = () => [...this.modelSeries.values()];
    const scripts = () => [...this.scriptSeries.values()];
    add(new Family('respai_model_runs_total', 'Model run requests served by a backend (each request of a batch counts).', 'counter', () =>
      models().map((s) => ({ labels: s.labels, value: s.runs })),
    ));
    add(new Family('respai_model_errors_total', 'Model run requests whose backend run failed.', 'counter', () =>
      models().map((s) => ({ labels: s.labels, value: s.errors })),
    ));
    add(new Family('respai_model_run_seconds', 'Compute time of the backend run that served each model run request.', 'histogram', () => {
      const out: Sample[] = [];
      for (const s of models()) histSamples('respai_model_run_seconds', s.labels, s.seconds, out);
      return out;
    }));
    add(new Family('respai_batch_size', 'Requests per backend run of a model (batches formed).', 'histogram', () => {
      const out: Sample[] = [];
      for (const [key, h] of this.batchByKey) histSamples('respai_batch_size', { key }, h, out);
      return out;
    }));
    add(new Family('respai_queue_wait_seconds', 'Time a run request waited (queued, batched) before and around its compute.', 'histogram', () => {
      const out: Sample[] = [];
      for (const [device, h] of this.waitByDevice) histSamples('respai_queue_wait_seconds', { device }, h, out);
      return out;
    }));
    add(new Family('respai_queue_depth', 'Run requests waiting on a device queue now.', 'gauge', () =>
      server.engine.queueStats().map((q) => ({ labels: { device: q.device }, value: q.queued })),
    ));
    add(new Family('respai_script_runs_total', 'TorchScript function runs.', 'counter', () =>
      scripts().map((s) => ({ labels: s.labels, value: s.runs })),
    ));
    add(new Family('respai_script_errors_total', 'TorchScript function runs that failed.', 'counter', () =>
      scripts().map((s) => ({ labels: s.labels, value: s.errors })),
    ));
    add(new Family('respai_script_run_seconds', 'Compute time of TorchScript function runs.', 'histogram', () => {
      const out: Sample[] = [];
      for (const s of scripts()) histSamples('respai_script_run_seconds', s.labels, s.seconds, out);
      return out;
    }));
    const commandSamples = (field: keyof CommandCounts) => {
      const out: Sample[] = [];
      for (const [command, c] of this.commands) if (c[field] > 0) out.push({ labels: { command }, value: c[field] });
      return out;
    };
    add(new Family('respai_commands_total', 'Commands run, by command.', 'counter', () => commandSamples('calls')));
    add(new Family('respai_command_errors_total', 'Error replies, by command (rejected before running included).', 'counter', () =>
      commandSamples('errors'),
    ));
    add(new Family('respai_connected_clients', 'Client connections open now.', 'gauge', () => [{ labels: {}, value: server.clients.size }]));
    add(new Family('respai_keys', 'Keys, by type.', 'gauge', () => this.countKeys()));
    add(new Family('respai_ready', '1 when /readyz answers 200, else 0.', 'gauge', () => [{ labels: {}, value: options.ready() === undefined ? 1 : 0 }]));
    for (const f of processFamilies()) add(f);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  /** RunObserver: one backend run of a model. */
  modelRun(jobs: readonly ModelJob[], computeUs: number, failed: boolean): void {
    const head = jobs[0]!;
    const model = head.model;
    let s = this.byModel.get(model);
    if (s === undefined) {
      s = this.modelSeriesFor(head.key ?? '', model.meta.backend, model.meta.device.name);
      this.byModel.set(model, s);
    }
    const n = jobs.length;
    const seconds = computeUs / 1e6;
    s.runs += n;
    if (failed) s.errors += n;
    for (let i = 0; i < n; i++) s.seconds.observe(seconds);
    s.batch.observe(n);
    const now = Date.now();
    for (let i = 0; i < n; i++) s.wait.observe(Math.max(0, (now - jobs[i]!.enqueuedAt) / 1000 - seconds));
  }

  /** RunObserver: one script run. */
  taskRun(job: TaskJob, device: string, computeUs: number, failed: boolean): void {
    const owner = job.stats;
    let s = owner === undefined ? undefined : this.byScript.get(owner);
    if (s === undefined) {
      s = this.scriptSeriesFor(job.key ?? '', device);
      if (owner !== undefined) this.byScript.set(owner, s);
    }
    const seconds = computeUs / 1e6;
    s.runs++;
    if (failed) s.errors++;
    s.seconds.observe(seconds);
    s.wait.observe(Math.max(0, (Date.now() - job.enqueuedAt) / 1000 - seconds));
  }

  private waitHist(device: string): Hist {
    let h = this.waitByDevice.get(device);
    if (h === undefined) this.waitByDevice.set(device, (h = new Hist(WAIT_SECONDS)));
    return h;
  }

  private modelSeriesFor(rawKey: string, backend: string, rawDevice: string): ModelSeries {
    const key = this.keyLabels.label(rawKey);
    const device = this.deviceLabels.label(rawDevice);
    const id = `${key}\0${backend}\0${device}`;
    let s = this.modelSeries.get(id);
    if (s === undefined) {
      let batch = this.batchByKey.get(key);
      if (batch === undefined) this.batchByKey.set(key, (batch = new Hist(BATCH_SIZES)));
      s = { labels: { key, backend, device }, runs: 0, errors: 0, seconds: new Hist(RUN_SECONDS), batch, wait: this.waitHist(device) };
      this.modelSeries.set(id, s);
    }
    return s;
  }

  private scriptSeriesFor(rawKey: string, rawDevice: string): ScriptSeries {
    const key = this.keyLabels.label(rawKey);
    const device = this.deviceLabels.label(rawDevice);
    const id = `${key}\0${device}`;
    let s = this.scriptSeries.get(id);
    if (s === undefined) {
      s = { labels: { key, device }, runs: 0, errors: 0, seconds: new Hist(RUN_SECONDS), wait: this.waitHist(device) };
      this.scriptSeries.set(id, s);
    }
    return s;
  }

  /** Keys by type, a page at a time with the event loop served in between (no long stall). */
  private async countKeys(): Promise<Sample[]> {
    const counts = new Map<string, number>();
    const ks = this.server.keyspace;
    let cursor = 0;
    do {
      const page = ks.scan(cursor, KEYS_PER_TURN, (_k, v) => {
        counts.set(v.type, (counts.get(v.type) ?? 0) + 1);
        return false;
      });
      cursor = page.cursor;
      if (cursor !== 0) await new Promise((r) => setImmediate(r));
    } while (cursor !== 0);
    return ['string', 'list', 'hash', 'tensor', 'model', 'script'].map((type) => ({ labels: { type }, value: counts.get(type) ?? 0 }));
  }
}
