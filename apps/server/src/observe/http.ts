import { createServer, type Server } from 'node:http';
import type { Metrics } from './metrics.js';

export interface HttpEndpoints {
  metrics: Metrics;
  /** Undefined when ready, else why not (the body of /readyz's 503). */
  readiness(): string | undefined;
  onError(e: Error): void;
}

/**
 * The operations endpoints on `metrics-port`: GET /metrics (Prometheus text format), /healthz
 * (200 while the process serves) and /readyz (200 once ready, 503 with the reason otherwise).
 */
export function createHttpServer(e: HttpEndpoints): Server {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    switch (path) {
      case '/metrics':
        e.metrics.render().then(
          (body) => res.writeHead(200, { 'Content-Type': e.metrics.contentType }).end(body),
          (err: unknown) => {
            e.onError(err as Error);
            res.writeHead(500, { 'Content-Type': 'text/plain' }).end('metrics failed\n');
          },
        );
        return;
      case '/healthz':
        res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok\n');
        return;
      case '/readyz': {
        const why = e.readiness();
        res.writeHead(why === undefined ? 200 : 503, { 'Content-Type': 'text/plain' }).end(why === undefined ? 'ready\n' : `not ready: ${why}\n`);
        return;
      }
      default:
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found: /metrics, /healthz, /readyz\n');
    }
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  return server;
}
