/**
 * The reply model: what a command returns, before it is encoded for the client's protocol.
 * Plain JS values cover the common cases so commands stay terse:
 *   null -> nil, number/bigint -> integer, Buffer/string -> bulk string, array -> array.
 * The classes cover what RESP2 and RESP3 encode differently, or what plain values cannot say.
 */
export type Reply =
  | null
  | number
  | bigint
  | Buffer
  | string
  | readonly Reply[]
  | SimpleString
  | ErrorReply
  | DoubleReply
  | MapReply
  | SetReply
  | VerbatimReply
  | NilArray
  | BoolReply;

/** `+text` */
export class SimpleString {
  constructor(readonly value: string) {}
}

/** `-text`: `text` is the whole error line, code included (`ERR ...`, `WRONGTYPE ...`). */
export class ErrorReply {
  constructor(readonly text: string) {}
}

/** RESP3 `,` double; in RESP2 a bulk string formatted like `%.17g`. */
export class DoubleReply {
  constructor(readonly value: number) {}
}

/** RESP3 `%` map; in RESP2 a flat array of alternating keys and values. */
export class MapReply {
  constructor(readonly entries: ReadonlyArray<readonly [Reply, Reply]>) {}
}

/** RESP3 `~` set; in RESP2 an array. */
export class SetReply {
  constructor(readonly items: readonly Reply[]) {}
}

/** RESP3 `=` verbatim string (format is three letters, e.g. `txt`); in RESP2 a bulk string. */
export class VerbatimReply {
  constructor(
    readonly format: string,
    readonly text: string,
  ) {}
}

/** RESP3 `#` boolean; in RESP2 the integer 1 or 0. */
export class BoolReply {
  constructor(readonly value: boolean) {}
}

/** A null array: RESP2 `*-1`, RESP3 `_` (EXEC after a WATCH abort, for example). */
export class NilArray {
  private constructor() {}
  static readonly instance = new NilArray();
}

export const OK = new SimpleString('OK');
export const QUEUED = new SimpleString('QUEUED');
export const PONG = new SimpleString('PONG');
