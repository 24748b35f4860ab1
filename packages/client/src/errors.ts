const MARKER = Symbol.for('@respai/client.RespaiError');

/**
 * A command the server refused or did not finish: `text` is the server's error reply exactly as
 * sent (`ERR model key is empty`, `WRONGTYPE Operation against ...`), or `TIMEDOUT` when a run
 * waited in its queue past its TIMEOUT.
 *
 * Use {@link RespaiError.isInstance} rather than `instanceof` where two copies of this package
 * may meet.
 */
export class RespaiError extends Error {
  /** The server's reply text, byte for byte (`ERR ...`, `WRONGTYPE ...`, `TIMEDOUT`). */
  readonly text: string;
  /** The command that got it (`AI.MODELEXECUTE`). */
  readonly command: string;
  /** For a DAG: the index of the op that failed, in the order the ops were added. */
  readonly op: number | undefined;
  /** Marks instances across duplicate copies of this package (see isInstance). */
  readonly [MARKER] = true;

  constructor(text: string, command: string, options: { op?: number; cause?: unknown } = {}) {
    super(text, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RespaiError';
    this.text = text;
    this.command = command;
    this.op = options.op;
  }

  /** The error's prefix (`ERR`, `WRONGTYPE`), or undefined for texts without one. */
  get code(): string | undefined {
    const m = /^([A-Z][A-Z_]*)(?: |$)/.exec(this.text);
    return m?.[1];
  }

  /** True when a run's request waited in the queue past its TIMEOUT (the reply was `TIMEDOUT`). */
  get timedOut(): boolean {
    return this.text === 'TIMEDOUT';
  }

  static isInstance(e: unknown): e is RespaiError {
    return typeof e === 'object' && e !== null && (e as { [MARKER]?: unknown })[MARKER] === true;
  }
}
