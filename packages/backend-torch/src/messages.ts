const INTERPRETER = 'The following operation failed in the TorchScript interpreter.';

/**
 * Condenses a TorchScript interpreter error (a multi-line traceback that a RESP error line would
 * flatten into noise) to its cause and where it happened:
 * `stack expects each tensor to be equal size, ... (TorchScript addn, line 6: return a + torch.stack(args).sum())`.
 * Other messages come back trimmed.
 */
export function cleanTorchMessage(message: string): string {
  const m = message.trim();
  if (!m.startsWith(INTERPRETER)) return m;
  const lines = m.split('\n');
  let at = -1;
  lines.forEach((l, i) => {
    if (/^[\w.]*(?:Error|Exception): /.test(l)) at = i;
  });
  if (at < 0) return m;
  const cause = lines
    .slice(at)
    .join(' ')
    .replace(/^[\w.]*(?:Error|Exception): /, '')
    .trim();
  const frame = [...m.matchAll(/File "[^"]*", line (\d+), in (\S+)/g)].at(-1);
  const here = lines.findLastIndex((l) => l.includes('<--- HERE'));
  const source = here > 0 ? lines[here - 1]!.trim() : '';
  if (frame === undefined) return cause;
  return `${cause} (TorchScript ${frame[2]}, line ${frame[1]}${source ? `: ${source}` : ''})`;
}

/** Re-throws `e` with its message condensed (see cleanTorchMessage), keeping the original as cause. */
export function torchError(e: unknown): unknown {
  if (!(e instanceof Error)) return e;
  const clean = cleanTorchMessage(e.message);
  return clean === e.message ? e : new Error(clean, { cause: e });
}

/**
 * A TorchScript compile error as the original sent it: libtorch ends the message with the
 * highlighted source line (`~~~~ <--- HERE`) and a newline, which became a trailing space on the
 * one-line reply (redisai-py compares that text exactly). The addon trims what() of the message;
 * this puts the newline back.
 */
export function compileError(e: unknown): unknown {
  if (!(e instanceof Error) || !e.message.endsWith('<--- HERE')) return e;
  return new Error(`${e.message}\n`, { cause: e });
}
