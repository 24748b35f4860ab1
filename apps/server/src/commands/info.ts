import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { VerbatimReply } from '../resp/reply.js';
import type { ServerState } from '../state.js';
import { REDISAI_VERSION, REDIS_VERSION, RESPAI_VERSION } from '../version.js';
import { LLAPI_VERSION, RDB_ENCODING_VERSION } from './ai.info.js';
import { MODULE_VERSION } from './module.js';
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
    s.keyspace.size === 0 ? {} : { db0: `keys=${s.keyspace.size},expires=${s.keyspace.volatileCount},avg_ttl=0` },
};

/** Linux's clock ticks per second (USER_HZ) for /proc CPU times. */
const CLK_TCK = 100;

/** utime and stime (fields 14 and 15) and the waited-for children's (16, 17) of a /proc stat file, in seconds. */
function procTimes(path: string): number[] | undefined {
  try {
    const stat = readFileSync(path, 'latin1');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields after the command name start at field 3 (state): utime is field 14, index 11 here.
    return [f[11], f[12], f[13], f[14]].map((v) => Number(v) / CLK_TCK);
  } catch {
    return undefined;
  }
}

const secs = (v: number | undefined) => (v === undefined ? 'N/A' : v.toFixed(6));

/** The original's backends_info field names, in its order. */
const BACKEND_INFO_NAMES: readonly [string, string][] = [
  ['TF', 'TensorFlow_version'],
  ['TFLITE', 'TensorFlowLite_version'],
  ['TORCH', 'Torch_version'],
  ['ONNX', 'onnxruntime_version'],
];

/**
 * RedisAI's INFO MODULES sections (ai_versions, ai_git, ai_load_time_configs, ai_backends_info,
 * ai_cpu), after the `# Modules` list, with the original's fields in its order: tools parse them
 * by position; respai's ai_queues follows them.
 */
function moduleSections(s: ServerState): [string, Record<string, string | number>][] {
  const o = s.options;
  const cpu = process.cpuUsage();
  const backends: Record<string, string | number> = {};
  const loaded = new Map(s.engine.registry.list().map((b) => [b.name as string, b]));
  for (const [name, field] of BACKEND_INFO_NAMES) {
    const b = loaded.get(name);
    if (b === undefined) continue;
    backends[`ai_${field}`] = b.version;
    // The original's ONNX allocator figures, when the backend keeps them.
    const mem = (b as { memoryInfo?: () => { bytes: number; accesses: number; maxRunSessions: number } }).memoryInfo?.();
    if (name === 'ONNX' && mem !== undefined) {
      backends['ai_onnxruntime_memory'] = mem.bytes;
      backends['ai_onnxruntime_memory_access_num'] = mem.accesses;
      backends['ai_onnxruntime_maximum_run_sessions_number'] = mem.maxRunSessions;
    }
  }
  const self = procTimes('/proc/self/stat');
  const main = procTimes('/proc/thread-self/stat');
  const cpuFields: Record<string, string | number> = {
    ai_self_used_cpu_sys: (cpu.system / 1e6).toFixed(6),
    ai_self_used_cpu_user: (cpu.user / 1e6).toFixed(6),
    ai_children_used_cpu_sys: secs(self?.[3]),
    ai_children_used_cpu_user: secs(self?.[2]),
    ai_main_thread_used_cpu_sys: secs(main?.[1]),
    ai_main_thread_used_cpu_user: secs(main?.[0]),
  };
  const queues: Record<string, string | number> = {};
  const stats = s.engine.queueStats();
  // The original creates the CPU queue at start; respai creates queues on first use.
  const devices = ['CPU', ...stats.map((q) => q.device).filter((d) => d !== 'CPU')];
  for (const device of devices) {
    // Backend threads run models inside worker threads or native threads whose CPU clocks Node
    // does not expose: N/A, as the original reports when it cannot read a thread's clock.
    for (let k = 1; k <= o['threads-per-queue']; k++) cpuFields[`ai_queue_${device.replace(/:/g, '_')}_bthread_n${k}_used_cpu_total`] = 'N/A';
  }
  for (const q of stats) {
    // INFO lines are `key:value`: CPU:1 is written CPU_1 so the key holds no colon.
    const p = `ai_queue_${q.device.replace(/:/g, '_')}`;
    queues[`${p}_queued`] = q.queued;
    queues[`${p}_running`] = q.running;
    queues[`${p}_batch_runs`] = q.batchRuns;
    queues[`${p}_batch_requests`] = q.batchRequests;
    queues[`${p}_avg_batch_size`] = q.batchRuns === 0 ? '0.00' : (q.batchRequests / q.batchRuns).toFixed(2);
  }
  return [
    ['Modules', { module: `name=ai,ver=${MODULE_VERSION},api=1,filters=0,usedby=[],using=[],options=[]` }],
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
    ['ai_cpu', cpuFields],
    // respai's addition, after the original's sections: one group of fields per device queue.
    ['ai_queues', queues],
  ];
}

const DEFAULT_SECTIONS = Object.keys(SECTIONS);

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
  if (everything || names.includes('modules')) parts.push(...moduleSections(s));
  else parts.push(...moduleSections(s).filter(([title]) => names.includes(title)));
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
