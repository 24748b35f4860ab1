import diagnostics from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import cliProgress from 'cli-progress';

/**
 * Upload progress of one large command, read from the socket that carries it. node-redis writes
 * the command in one go, so the socket's own counters say only that everything was handed over;
 * what the kernel has taken is the handed-over bytes less libuv's write queue, which Node keeps on
 * the socket's handle (`writeQueueSize`, an internal field). Where it is missing the bar moves
 * only when the server answers.
 */
export class UploadProgress {
  private socket: Socket | undefined;
  private readonly onSocket = (m: unknown) => {
    this.socket ??= (m as { socket: Socket }).socket;
  };

  /** Call before connecting: remembers the first TCP client socket this process opens. */
  watch(): void {
    diagnostics.subscribe('net.client.socket', this.onSocket);
  }

  private unwatch(): void {
    diagnostics.unsubscribe('net.client.socket', this.onSocket);
  }

  /** Runs `send` while a bar on stderr shows how many of `total` bytes have left. */
  async track<T>(label: string, total: number, show: boolean, send: () => Promise<T>): Promise<T> {
    this.unwatch();
    if (!show) return send();
    const bar = new cliProgress.SingleBar(
      {
        stream: process.stderr,
        noTTYOutput: true,
        notTTYSchedule: 1000,
        format: `${label} [{bar}] {percentage}% | {sent}/{size} | {speed}`,
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    const start = this.socket?.bytesWritten ?? 0;
    const started = Date.now();
    const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;
    const payload = (sent: number) => ({
      sent: mib(sent),
      size: mib(total),
      speed: `${mib(sent / Math.max((Date.now() - started) / 1000, 0.001))}/s`,
    });
    bar.start(total, 0, payload(0));
    const sent = () => {
      const s = this.socket;
      if (!s) return 0;
      const queued = (s as unknown as { _handle?: { writeQueueSize?: unknown } })._handle?.writeQueueSize;
      if (typeof queued !== 'number') return 0;
      return Math.max(0, Math.min(total, s.bytesWritten - start - queued));
    };
    const timer = setInterval(() => bar.update(sent(), payload(sent())), 100);
    try {
      const r = await send();
      bar.update(total, payload(total));
      return r;
    } finally {
      clearInterval(timer);
      bar.stop();
    }
  }
}
