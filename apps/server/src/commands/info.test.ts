import { MemoryKeyspace } from '@respai/core';
import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../config.js';
import { VerbatimReply } from '../resp/reply.js';
import { Stats, type ServerState } from '../state.js';
import { info, renderInfo } from './info.js';
import type { ExecContext } from './types.js';
import { args, pctx } from './test-helpers.js';

function fakeServer(): ServerState {
  const keyspace = new MemoryKeyspace({ activeExpiryMs: 0 });
  return {
    options: { ...DEFAULTS },
    keyspace,
    stats: new Stats(),
    clients: new Map([[1, {}]]),
    startedAt: Date.now() - 90_000,
    configFile: undefined,
    boundPort: 6400,
    engine: { registry: { list: () => [] }, queueStats: () => [] },
  } as unknown as ServerState;
}

/** Section titles in order, and every field as a map. */
function read(text: string) {
  const titles = [...text.matchAll(/^# (\w+)\r$/gm)].map((m) => m[1]);
  const fields = new Map<string, string>();
  for (const line of text.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) fields.set(line.slice(0, i), line.slice(i + 1));
  }
  return { titles, fields };
}

describe('INFO parse', () => {
  it('lower-cases the section names', () => {
    expect(info.parse(args('Server', 'KEYSPACE'), pctx)).toEqual(['server', 'keyspace']);
    expect(info.parse([], pctx)).toEqual([]);
  });
});

describe('INFO execute', () => {
  it('a verbatim txt reply with every section by default', () => {
    const server = fakeServer();
    const r = info.execute({ server } as unknown as ExecContext, []);
    expect(r).toBeInstanceOf(VerbatimReply);
    expect((r as VerbatimReply).format).toBe('txt');
    expect(read((r as VerbatimReply).text).titles).toEqual(['Server', 'Clients', 'Memory', 'Persistence', 'Stats', 'Keyspace']);
  });

  it('all / default mean every core section; everything adds the module sections', () => {
    const server = fakeServer();
    for (const n of ['all', 'default']) {
      expect(read(renderInfo(server, [n])).titles).toEqual(['Server', 'Clients', 'Memory', 'Persistence', 'Stats', 'Keyspace']);
    }
    const titles = read(renderInfo(server, ['everything'])).titles;
    expect(titles.slice(0, 7)).toEqual(['Server', 'Clients', 'Memory', 'Persistence', 'Stats', 'Keyspace', 'Modules']);
    expect(titles).toContain('ai_versions');
  });

  it('named sections only, in the canonical order; unknown names give nothing', () => {
    const server = fakeServer();
    expect(read(renderInfo(server, ['stats', 'server'])).titles).toEqual(['Server', 'Stats']);
    expect(renderInfo(server, ['nope'])).toBe('');
  });

  it('uses CRLF lines, a blank line between sections, Redis field names', () => {
    const server = fakeServer();
    server.stats.keyspaceHits = 3;
    const text = renderInfo(server, ['server', 'clients', 'stats']);
    expect(text.startsWith('# Server\r\n')).toBe(true);
    expect(text).toContain('\r\n\r\n# Clients\r\n');
    expect(text.endsWith('\r\n')).toBe(true);
    const { fields } = read(text);
    expect(fields.get('redis_version')).toBe('7.2.0'); // docs/commands.md: what clients gate features on
    expect(fields.get('redis_mode')).toBe('standalone');
    expect(fields.get('tcp_port')).toBe('6400');
    expect(Number(fields.get('uptime_in_seconds'))).toBeGreaterThanOrEqual(90);
    expect(fields.get('connected_clients')).toBe('1');
    expect(fields.get('maxclients')).toBe('10000');
    expect(fields.get('keyspace_hits')).toBe('3');
  });

  it('memory: numbers and a human form', () => {
    const { fields } = read(renderInfo(fakeServer(), ['memory']));
    expect(Number(fields.get('used_memory'))).toBeGreaterThan(0);
    expect(fields.get('used_memory_human')).toMatch(/^\d+(\.\d\d)?[BKMGT]$/);
  });

  it('keyspace: empty without keys, db0 line with keys and expires', () => {
    const server = fakeServer();
    expect(renderInfo(server, ['keyspace'])).toBe('# Keyspace\r\n');
    server.keyspace.set('a', { type: 'string', value: Buffer.from('1') });
    server.keyspace.set('b', { type: 'string', value: Buffer.from('1') }, { expireAt: Date.now() + 60_000 });
    expect(renderInfo(server, ['keyspace'])).toBe('# Keyspace\r\ndb0:keys=2,expires=1,avg_ttl=0\r\n');
  });
});

describe('INFO MODULES: the original sections, names and order', () => {
  it('ai_backends_info names each loaded backend as the original did, in its order', () => {
    const server = fakeServer();
    const b = (name: string, version: string) => ({ name, version });
    (server.engine as unknown as { registry: { list: () => unknown[] } }).registry.list = () => [b('ONNX', '1.30.0'), b('TF', '4.22.0'), b('TORCH', '1.13.1'), b('TFLITE', '2.2.0')];
    const text = renderInfo(server, ['modules']);
    const section = text.slice(text.indexOf('# ai_backends_info'), text.indexOf('# ai_cpu'));
    expect(section.split('\r\n').filter((l) => l.includes(':'))).toEqual([
      'ai_TensorFlow_version:4.22.0',
      'ai_TensorFlowLite_version:2.2.0',
      'ai_Torch_version:1.13.1',
      'ai_onnxruntime_version:1.30.0',
    ]);
  });

  it("ai_cpu has the original's fields, a CPU time per queue slot (N/A: slots are not threads), the CPU queue from the start", () => {
    const server = fakeServer();
    server.options['threads-per-queue'] = 2;
    (server.engine as unknown as { queueStats: () => unknown[] }).queueStats = () => [{ device: 'GPU:1' }];
    const { titles, fields } = read(renderInfo(server, ['modules']));
    expect(titles).toEqual(['Modules', 'ai_versions', 'ai_git', 'ai_load_time_configs', 'ai_backends_info', 'ai_cpu', 'ai_queues']);
    for (const f of ['ai_self_used_cpu_sys', 'ai_self_used_cpu_user', 'ai_children_used_cpu_sys', 'ai_children_used_cpu_user']) {
      expect(fields.get(f)).toMatch(/^\d+\.\d{6}$/);
    }
    expect(fields.get('ai_main_thread_used_cpu_user')).toMatch(/^\d+\.\d{6}$/); // Linux
    expect(fields.get('ai_queue_CPU_bthread_n1_used_cpu_total')).toBe('N/A');
    expect(fields.get('ai_queue_CPU_bthread_n2_used_cpu_total')).toBe('N/A');
    expect(fields.get('ai_queue_GPU_1_bthread_n2_used_cpu_total')).toBe('N/A');
  });

  it('memory names its allocator', () => {
    expect(read(renderInfo(fakeServer(), ['memory'])).fields.get('mem_allocator')).toBe('libc');
  });
});
