/**
 * Limits on a TorchScript source checked before libtorch sees it. TorchScript's parser and
 * compiler recurse once per nesting level; Python itself refuses brackets nested deeper than 200
 * ("too many nested parentheses") and blocks nested deeper than 100 ("too many levels of
 * indentation"), so no source written for Python is refused here. The check in a forked child
 * (see backend.ts) still covers what this scan does not model (say, an expression of a million
 * chained operators); this scan gives the common case a clear text at no cost.
 */
export const MAX_BRACKET_DEPTH = 200;
export const MAX_BLOCK_DEPTH = 100;

/** Why `source` nests too deeply for TorchScript, or undefined when it does not. */
export function nestingError(source: string): string | undefined {
  let depth = 0;
  let line = 1;
  let atLineStart = true;
  const indents: number[] = [0];
  const n = source.length;
  for (let i = 0; i < n; i++) {
    let c = source.charCodeAt(i);
    if (atLineStart) {
      atLineStart = false;
      // Indentation counts where a logical line starts: outside brackets, on a line with code.
      let width = 0;
      while (i < n && (c === 0x20 || c === 0x09 || c === 0x0c)) {
        width = c === 0x09 ? (width + 8) & ~7 : width + 1;
        c = source.charCodeAt(++i);
      }
      if (i >= n) break;
      const blank = c === 0x0a || c === 0x0d || c === 0x23; // empty or comment-only
      if (depth === 0 && !blank) {
        if (width > indents[indents.length - 1]!) {
          indents.push(width);
          if (indents.length - 1 > MAX_BLOCK_DEPTH) {
            return `the script nests blocks more than ${MAX_BLOCK_DEPTH} deep (line ${line}); TorchScript, like Python, allows ${MAX_BLOCK_DEPTH}`;
          }
        } else {
          while (indents.length > 1 && width < indents[indents.length - 1]!) indents.pop();
        }
      }
    }
    switch (c) {
      case 0x0a: // \n
        line++;
        atLineStart = true;
        break;
      case 0x5c: // \ : a continuation (or a stray backslash): the next line goes on this one
        if (source.charCodeAt(i + 1) === 0x0a) {
          i++;
          line++;
        }
        break;
      case 0x23: // # comment
        while (i + 1 < n && source.charCodeAt(i + 1) !== 0x0a) i++;
        break;
      case 0x22: // "
      case 0x27: {
        // '
        const triple = source.charCodeAt(i + 1) === c && source.charCodeAt(i + 2) === c;
        i += triple ? 3 : 1;
        for (; i < n; i++) {
          const d = source.charCodeAt(i);
          if (d === 0x5c) {
            if (source.charCodeAt(i + 1) === 0x0a) line++;
            i++;
          } else if (d === 0x0a) {
            line++;
            if (!triple) break; // an unterminated string: the compiler will say so
          } else if (d === c && (!triple || (source.charCodeAt(i + 1) === c && source.charCodeAt(i + 2) === c))) {
            if (triple) i += 2;
            break;
          }
        }
        if (i < n && source.charCodeAt(i) === 0x0a) atLineStart = depth === 0;
        break;
      }
      case 0x28: // (
      case 0x5b: // [
      case 0x7b: // {
        if (++depth > MAX_BRACKET_DEPTH) {
          return `the script nests brackets more than ${MAX_BRACKET_DEPTH} deep (line ${line}); TorchScript, like Python, allows ${MAX_BRACKET_DEPTH}`;
        }
        break;
      case 0x29: // )
      case 0x5d: // ]
      case 0x7d: // }
        if (depth > 0) depth--;
        break;
      default:
        break;
    }
    // Inside brackets, a new line continues the logical line: no indentation is measured.
    if (atLineStart && depth > 0) atLineStart = false;
  }
  return undefined;
}
