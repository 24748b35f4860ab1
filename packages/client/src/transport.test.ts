import { describe, expect, it } from 'vitest';
import { Cluster, Redis } from 'ioredis';
import { createClient, createCluster } from 'redis';
import { RespaiClient } from './client.js';
import { transportFor } from './transport.js';

// Connections are made but never connected: recognising them needs only their shape.
describe('transportFor', () => {
  it('recognises node-redis clients and clusters, ioredis Redis and Cluster', () => {
    expect(transportFor(createClient()).kind).toBe('node-redis');
    expect(transportFor(createCluster({ rootNodes: [{ url: 'redis://127.0.0.1:1' }] })).kind).toBe('node-redis-cluster');
    const io = new Redis({ lazyConnect: true });
    expect(transportFor(io).kind).toBe('ioredis');
    const cluster = new Cluster([{ host: '127.0.0.1', port: 1 }], { lazyConnect: true });
    expect(new RespaiClient(cluster).transport.kind).toBe('ioredis-cluster');
    io.disconnect();
    cluster.disconnect();
  });

  it('refuses anything else', () => {
    expect(() => transportFor({} as never)).toThrow('RespaiClient needs a node-redis 5 client or cluster, or an ioredis 5 Redis or Cluster');
    expect(() => transportFor(null as never)).toThrow(TypeError);
  });
});
