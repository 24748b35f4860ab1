// The store-client measurement of docs/scale-out.md. Install the candidates in a scratch folder
// (npm i iovalkey@0.4 @valkey/valkey-glide@2.5), start `redis-server --port 7390 --save ""`, and run
// `node store-clients.mjs` from that folder (node-redis and ioredis come from the respai checkout).
import { createRequire } from 'node:module';
const req = createRequire(new URL('../../package.json', import.meta.url)); // the respai checkout
const { createClient, RESP_TYPES } = await import(req.resolve('redis'));
const IORedis = (await import(req.resolve('ioredis'))).default;
const IOValkey = (await import('iovalkey')).default;
const { GlideClient, Decoder } = await import('@valkey/valkey-glide');
const PORT = 7390, N = +process.env.N || 20000, CONC = 16;
const blob = Buffer.alloc(65536, 7);
const small = Buffer.alloc(64, 3);
async function run(name, op) {
  // warm
  for (let i = 0; i < 500; i++) await op(i);
  const t0 = process.hrtime.bigint(), c0 = process.cpuUsage();
  let next = 0;
  await Promise.all(Array.from({ length: CONC }, async () => { while (next < N) await op(next++); }));
  const ms = Number(process.hrtime.bigint() - t0) / 1e6, c = process.cpuUsage(c0);
  console.log(`${name.padEnd(34)} ${(N / ms * 1000).toFixed(0).padStart(7)} ops/s  cpu ${((c.user + c.system) / N).toFixed(1).padStart(6)} us/op`);
}
const F = ['respai:type', 'dtype', 'shape', 'blob'];
const nr = await createClient({ socket: { port: PORT }, RESP: 3 }).withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer }).connect();
await nr.sendCommand(['HSET', 'big', 'respai:type', 'AI_TENSOR', 'dtype', 'FLOAT', 'shape', '16384', 'blob', blob]);
await nr.sendCommand(['HSET', 'sm', 'respai:type', 'AI_TENSOR', 'dtype', 'FLOAT', 'shape', '16', 'blob', small]);
const io = new IORedis({ port: PORT }); const iv = new IOValkey({ port: PORT });
const gl = await GlideClient.createClient({ addresses: [{ host: '127.0.0.1', port: PORT }], defaultDecoder: Decoder.Bytes });
for (const size of ['sm', 'big']) {
  await run(`node-redis HMGET ${size}`, () => nr.sendCommand(['HMGET', size, ...F]));
  await run(`ioredis HMGET ${size}`, () => io.hmgetBuffer(size, ...F));
  await run(`iovalkey HMGET ${size}`, () => iv.hmgetBuffer(size, ...F));
  await run(`glide HMGET ${size}`, () => gl.hmget(size, F));
  const b = size === 'big' ? blob : small;
  await run(`node-redis HSET ${size}`, (i) => nr.sendCommand(['HSET', 'w' + (i & 255), 'respai:type', 'AI_TENSOR', 'dtype', 'FLOAT', 'shape', '16', 'blob', b]));
  await run(`ioredis HSET ${size}`, (i) => io.hset('w' + (i & 255), 'respai:type', 'AI_TENSOR', 'dtype', 'FLOAT', 'shape', '16', 'blob', b));
  await run(`iovalkey HSET ${size}`, (i) => iv.hset('w' + (i & 255), 'respai:type', 'AI_TENSOR', 'dtype', 'FLOAT', 'shape', '16', 'blob', b));
  await run(`glide HSET ${size}`, (i) => gl.hset('w' + (i & 255), { 'respai:type': 'AI_TENSOR', dtype: 'FLOAT', shape: '16', blob: b }));
}
await nr.quit(); io.disconnect(); iv.disconnect(); gl.close();
