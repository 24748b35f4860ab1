import net from 'node:net';
import { ReplyScanner } from './resp.js';

export interface BatchResult {
  replies: number;
  errors: number;
  firstError: string | undefined;
}

/**
 * Sends a fixed list of pre-encoded requests over one connection, `inflight` at a time, and waits
 * for every reply. For set-up work (pre-loading keys, filling memory), not for measuring.
 */
export function sendBatch(
  port: number,
  requests: readonly Buffer[],
  inflight = 8,
  host = '127.0.0.1',
): Promise<BatchResult> {
  return new Promise((resolve, reject) => {
    const scanner = new ReplyScanner();
    const socket = net.connect({ host, port, noDelay: true });
    let sent = 0;
    let replies = 0;
    const pump = () => {
      while (sent < requests.length && sent - replies < inflight) socket.write(requests[sent++]!);
    };
    socket.on('connect', pump);
    socket.on('data', (chunk: Buffer) => {
      try {
        replies += scanner.feed(chunk);
      } catch (e) {
        socket.destroy();
        reject(e as Error);
        return;
      }
      if (replies >= requests.length) {
        socket.destroy();
        resolve({ replies, errors: scanner.errors, firstError: scanner.firstError });
      } else pump();
    });
    socket.on('error', reject);
    socket.on('close', () => {
      if (replies < requests.length) reject(new Error(`connection closed after ${replies}/${requests.length} replies`));
    });
    if (requests.length === 0) {
      socket.destroy();
      resolve({ replies: 0, errors: 0, firstError: undefined });
    }
  });
}
