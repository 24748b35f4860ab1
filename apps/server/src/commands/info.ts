import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import type { Backend, BackendName } from '@respai/core';
import { VerbatimReply } from '../resp/reply.js';
import type { ServerState } from '../state.js';
import { REDISAI_VERSION, REDIS_VERSION, RESPAI_VERSION } from '../version.js';
import { LLAPI_VERSION, RDB_ENCODING_VERSION } from './ai.info.js';
import { defineCommand } from './types.js';

type Section = (s: ServerState) => Record<string, string | number>;

function human(bytes: number): string {
  const units = ['B', 'K', 'M', 'G', 'T'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${bytes}B` : `${v.toFixed(2)}${units[u]}`;
}

let peak = 0;

/** INFO's sections, in Redis's order and with Redis's field names where one exists. */
export const SECTIONS: Record<string, Section> = {
  server: (s) => {
    const uptime = Math.floor((Date.now() - s.startedAt) / 1000);
    return {
      redis_version: REDIS_VERSION,
      respai_version: RESPAI_VERSION,
      redis_mode: 'standalone',
      os: `${process.platform} ${process.arch}`,
      arch_bits: 64,
      process_id: process.pid,
      node_version: process.version,
      tcp_port: s.boundPort,
      uptime_in_seconds: uptime,
      uptime_in_days: Math.floor(uptime / 86400),
      executable: process.argv[1] ?? '',
      config_file: s.configFile ?? '',
    };
  },
  clients: (s) => ({
    connected_clients: s.clients.size,
    maxclients: s.options.maxclients,
    blocked_clients: 0,
  }),
  memory: () => {
    const m = process.memoryUsage();
    // Tensor payloads live in Buffers (external memory), not the JS heap: count both.
    const used = m.heapUsed + m.external;
    peak = Math.max(peak, used);
    return {
      used_memory: used,
      used_memory_human: human(used),
      used_memory_rss: m.rss,
      used_memory_rss_human: human(m.rss),
      used_memory_peak: peak,
      used_memory_peak_human: human(peak),
      used_memory_heap: m.heapUsed,
      used_memory_buffers: m.arrayBuffers,
      total_system_memory: totalmem(),
      total_system_memory_human: human(totalmem()),
      // Node's buffers and V8's heap come from the C library's malloc (tools check for jemalloc).
      mem_allocator: 'libc',
    };
  },
  // Redis's persistence fields (fake servers in unit tests have no persistence layer).
  persistence: (s) => s.persistence?.info() ?? { loading: 0 },
  stats: (s) => ({
    total_connections_received: s.stats.totalConnections,
    total_commands_processed: s.stats.totalCommands,
    total_net_input_bytes: s.stats.netInputBytes,
    total_net_output_bytes: s.stats.netOutputBytes,
    rejected_connections: s.stats.rejectedConnections,
    keyspace_hits: s.stats.keyspaceHits,
    keyspace_misses: s.stats.keyspaceMisses,
  }),
  keyspace: (s): Record<string, string> =>
    // External keyspace (docs/scale-out.md): the store's counts.
    s.external?.keyspaceFields() ??
    (s.keyspace.size === 0 ? {} : { db0: `keys=${s.keyspace.size},expires=${s.keyspace.volatileCount},avg_ttl=0` }),
};

/** The original's ai_backends_info names, in its order. */
const BACKEND_INFO: [BackendName, string][] = [
  ['TF', 'ai_TensorFlow_version'],
  ['TFLITE', 'ai_TensorFlowLite_version'],
  ['TORCH', 'ai_Torch_version'],
  ['ONNX', 'ai_onnxruntime_version'],
];

const seconds = (us: number) => (us / 1e6).toFixed(6);

/**
 * The main thread's CPU time (user, system) in microseconds, from Linux's per-thread
 * /proc/self/task/<pid>/stat (the main thread's id is the process id); undefined elsewhere.
 */
function mainThreadCpu(): { user: number; system: number } | undefined {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'latin1');
    // Fields after the parenthesised name: state is field 3, utime 14, stime 15 (clock ticks, 100 Hz on Linux).
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { user: Number(f[11]) * 10_000, system: Number(f[12]) * 10_000 };
  } catch {
    return undefined;
  }
}

/**
 * RedisAI's INFO MODULES sections (ai_versions, ai_git, ai_load_time_configs, ai_backends_info,
 * ai_cpu), after the `# Modules` list, with the original's names in its order: tools parse them
 * by position; respai's ai_queues follows them.
 */
function moduleSections(s: ServerState): [string, Record<string, string | number>][] {
  const o = s.options;
  const cpu = process.cpuUsage();
  const main = mainThreadCpu();
  const loaded = new Map<BackendName, Backend>(s.engine.registry.list().map((b) => [b.name, b]));
  const backends: Record<string, string> = {};
  for (const [name, field] of BACKEND_INFO) {
    const b = loaded.get(name);
    if (b !== undefined) backends[field] = b.version;
  }
  // The original listed a CPU time per queue thread; respai's queue slots are not threads of their
  // own (the backends run on theirs), so each slot reads N/A, as the original wrote for a thread
  // whose clock it could not read. The CPU queue exists from the start, as in the original.
  const devices = new Set(['CPU', ...s.engine.queueStats().map((q) => q.device)]);
  const slotCpu: Record<string, string> = {};
  for (const d of devices) {
    for (let i = 1; i <= o['threads-per-queue']; i++) slotCpu[`ai_queue_${d.replace(/:/g, '_')}_bthread_n${i}_used_cpu_total`] = 'N/A';
  }
  const queues: Record<string, string | number> = {};
  for (const q of s.engine.queueStats()) {
    // INFO lines are `key:value`: CPU:1 is written CPU_1 so the key holds no colon.
    const p = `ai_queue_${q.device.replace(/:/g, '_')}`;
    queues[`${p}_queued`] = q.queued;
    queues[`${p}_running`] = q.running;
    queues[`${p}_batch_runs`] = q.batchRuns;
    queues[`${p}_batch_requests`] = q.batchRequests;
    queues[`${p}_avg_batch_size`] = q.batchRuns === 0 ? '0.00' : (q.batchRequests / q.batchRuns).toFixed(2);
  }
  return [
    ['Modules', { module: `name=ai,ver=${REDISAI_VERSION.split('.').map((p, i) => (i === 0 ? p : p.padStart(2, '0'))).join('')},api=1,filters=0,usedby=[],using=[],options=[]` }],
    ['ai_versions', { ai_RedisAI_version: REDISAI_VERSION, ai_low_level_API_version: LLAPI_VERSION, ai_rdb_version: RDB_ENCODING_VERSION }],
    ['ai_git', { ai_git_sha: `respai-${RESPAI_VERSION}` }],
    [
      'ai_load_time_configs',
      {
        ai_threads_per_queue: o['threads-per-queue'],
        ai_inter_op_parallelism: o['inter-op-parallelism'],
        ai_intra_op_parallelism: o['intra-op-parallelism'],
        ai_model_execution_timeout: o['model-execution-timeout'],
        ai_backend_memory_limit: o['backend-memory-limit'],
      },
    ],
    ['ai_backends_info', backends],
    [
      'ai_cpu',
      {
        ai_self_used_cpu_sys: seconds(cpu.system),
        ai_self_used_cpu_user: seconds(cpu.user),
        ai_children_used_cpu_sys: '0.000000',
        ai_children_used_cpu_user: '0.000000',
        ai_main_thread_used_cpu_sys: main === undefined ? 'N/A' : seconds(main.system),
        ai_main_thread_used_cpu_user: main === undefined ? 'N/A' : seconds(main.user),
        ...slotCpu,
      },
    ],
    // respai's addition, after the original's sections: one group of fields per device queue.
    ['ai_queues', queues],
  ];
}

const DEFAULT_SECTIONS = Object.keys(SECTIONS);

/** A key as INFO can hold it: bytes outside printable ASCII, and `,` `=` and backslash, written \xNN. */
const infoKey = (key: string) => key.replace(/[^\x21-\x7e]|[,=\\]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);

/**
 * respai's section on which runtime runs each model whose backend chooses one per model (TFLITE):
 * `model_<n>:key=<key>,backend=<NAME>,runtime=<runtime>,<the backend's reasons>`.
 */
function modelRuntimes(s: ServerState): Record<string, string> {
  const out: Record<string, string> = {};
  let n = 0;
  for (const k of s.keyspace.keys()) {
    const v = s.keyspace.get(k);
    const runtime = v?.type === 'model' ? v.value.handle.runtime : undefined;
    if (runtime === undefined || v?.type !== 'model') continue;
    const fields = Object.entries(runtime).map(([f, x]) => `${f}=${String(x).replace(/[,=\r\n]/g, '_')}`);
    out[`model_${n++}`] = [`key=${infoKey(k)}`, `backend=${v.value.meta.backend}`, ...fields].join(',');
  }
  return out;
}

export function renderInfo(s: ServerState, names: string[]): string {
  const everything = names.includes('everything');
  const core =
    names.length === 0 || everything || names.includes('all') || names.includes('default')
      ? DEFAULT_SECTIONS
      : DEFAULT_SECTIONS.filter((n) => names.includes(n));
  const parts: [string, Record<string, string | number>][] = core.map((name) => [
    name[0]!.toUpperCase() + name.slice(1),
    SECTIONS[name]!(s),
  ]);
  // External keyspace (docs/scale-out.md): the store's state, after the core sections.
  if (s.external !== undefined && (core === DEFAULT_SECTIONS || names.includes('keyspace_store'))) {
    parts.push(['Keyspace_store', s.external.infoFields()]);
  }
  if (everything || names.includes('modules')) parts.push(...moduleSections(s));
  else parts.push(...moduleSections(s).filter(([title]) => names.includes(title)));
  // Scans the keyspace: only when asked for by name (or `everything`).
  if (everything || names.includes('ai_model_runtimes')) parts.push(['ai_model_runtimes', modelRuntimes(s)]);
  return parts
    .map(([title, fields]) => `# ${title}\r\n` + Object.entries(fields).map(([k, v]) => `${k}:${v}\r\n`).join(''))
    .join('\r\n');
}

export const info = defineCommand({
  name: 'info',
  arity: -1,
  flags: ['loading'],
  summary: 'Returns information and statistics about the server.',
  group: 'server',
  parse: (args) => args.map((a) => a.toString().toLowerCase()),
  execute: (ctx, names) => new VerbatimReply('txt', renderInfo(ctx.server, names)),
});
