import { totalmem } from 'node:os';
import { VerbatimReply } from '../resp/reply.js';
import type { ServerState } from '../state.js';
import { REDIS_VERSION, RESPAI_VERSION } from '../version.js';
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

export function renderInfo(s: ServerState, names: string[]): string {
  const all = Object.keys(SECTIONS);
  const wanted =
    names.length === 0 || names.some((n) => ['all', 'everything', 'default'].includes(n))
      ? all
      : all.filter((n) => names.includes(n));
  return wanted
    .map((name) => {
      const fields = SECTIONS[name]!(s);
      const title = name[0]!.toUpperCase() + name.slice(1);
      return `# ${title}\r\n` + Object.entries(fields).map(([k, v]) => `${k}:${v}\r\n`).join('');
    })
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
