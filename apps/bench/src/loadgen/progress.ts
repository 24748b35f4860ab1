import type { Progress } from './run.js';

/**
 * One live status line on a TTY (rewritten in place with \r), plain lines otherwise (one per
 * finished window, so logs stay readable). Goes to stderr to keep stdout for the results.
 */
export class ProgressLine {
  private shown = false;
  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {}

  get tty(): boolean {
    return this.stream.isTTY === true;
  }

  show(text: string, closed: boolean): void {
    if (this.tty) {
      const cols = this.stream.columns ?? 120;
      this.stream.write(`\r${text.slice(0, cols - 1)}\x1b[K`);
      this.shown = true;
    } else if (closed) {
      this.stream.write(`${text}\n`);
    }
  }

  /** Leaves the cursor on a clean line before other output. */
  clear(): void {
    if (this.tty && this.shown) this.stream.write('\r\x1b[K');
    this.shown = false;
  }

  /** An onProgress callback for runLoad, labelled with what is being measured. */
  reporter(label: string): (p: Progress) => void {
    return (p) => this.show(formatProgress(label, p), p.closed);
  }
}

export function formatProgress(label: string, p: Progress): string {
  const where = p.phase === 'warmup' ? 'warm-up' : `window ${p.window}/${p.maxWindows}`;
  return `${label} c=${p.connections} p=${p.pipeline} ${where} ${formatRate(p.opsPerSec)} ops/s`;
}

export function formatRate(x: number): string {
  if (x >= 100) return Math.round(x).toLocaleString('en-US');
  return x.toFixed(1);
}
