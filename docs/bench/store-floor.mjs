// The floor of one store round trip in Node (docs/scale-out.md, "Where the cost goes"): CPU per
// HMGET of a 64 KiB tensor hash through node-redis (the store client) and through a bare socket
// that only counts the reply's bytes (no parsing: nothing in Node does less). 16 requests in
// flight, rounds alternating. Start `redis-server --port 7391 --save ""`, then run
// `node docs/bench/store-floor.mjs` from the respai checkout.
import { createRequire } from 'node:module';
import net from 'node:net';
const req = createRequire(new URL('../../packages/keyspace-redis/package.json', import.meta.url));
const { createClient, RESP_TYPES } = await import(req.resolve('@redis/client'));
const PORT = +(process.env.PORT || 7391), N = +(process.env.N || 20000), CONC = 16;
const c = await createClient({ socket: { port: PORT, host: '127.0.0.1' }, RESP: 3 }).withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer }).connect();
await c.sendCommand(['HSET', 'g', 'respai:type', 'AI_TENSOR', 'dtype', 'UINT8', 'shape', '65536', 'blob', Buffer.alloc(65536, 7)]);
const F = ['HMGET', 'g', 'respai:type', 'dtype', 'shape', 'blob'];
const wire = Buffer.from(`*${F.length}\r\n${F.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);

const sock = net.connect(PORT, '127.0.0.1');
await new Promise((r) => sock.once('connect', r));
// The reply's size, from one request.
const size = await new Promise((resolve) => {
  let n = 0;
  const on = (d) => { n += d.length; clearTimeout(t); t = setTimeout(() => { sock.off('data', on); resolve(n); }, 200); };
  let t = setTimeout(() => undefined, 0);
  sock.on('data', on);
  sock.write(wire);
});

const viaClient = async (n) => {
  let left = n;
  await Promise.all(Array.from({ length: CONC }, async () => { while (left-- > 0) await c.sendCommand(F); }));
};
const viaSocket = (n) => new Promise((resolve) => {
  let sent = 0, done = 0, bytes = 0;
  const on = (d) => {
    bytes += d.length;
    while (bytes >= size) {
      bytes -= size;
      if (++done === n) { sock.off('data', on); return resolve(); }
      if (sent < n) { sock.write(wire); sent++; }
    }
  };
  sock.on('data', on);
  for (; sent < CONC; sent++) sock.write(wire);
});

async function measure(name, fn) {
  await fn(1000);
  const c0 = process.cpuUsage(), t0 = performance.now();
  await fn(N);
  const cpu = process.cpuUsage(c0), ms = performance.now() - t0;
  return { name, us: (cpu.user + cpu.system) / N, rate: (N / ms) * 1000 };
}
console.log(`reply ${size} bytes; ${N} requests, ${CONC} in flight`);
for (let round = 0; round < 4; round++) {
  const order = round % 2 === 0 ? [['node-redis', viaClient], ['bare socket', viaSocket]] : [['bare socket', viaSocket], ['node-redis', viaClient]];
  for (const [name, fn] of order) {
    const r = await measure(name, fn);
    console.log(`round ${round + 1}  ${r.name.padEnd(12)} ${r.us.toFixed(1).padStart(6)} us CPU/request  ${r.rate.toFixed(0).padStart(6)} req/s`);
  }
}
process.exit(0);
