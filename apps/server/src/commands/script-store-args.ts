import { E, fail, parseDevice, type ScriptSpec } from '@respai/core';
import { is, parseInt64 } from './args.js';

/**
 * AI.SCRIPTSTORE's arguments after the key: `device [TAG t] ENTRY_POINTS n fn... SOURCE src`;
 * `legacy` is the deprecated AI.SCRIPTSET: `device [TAG t] SOURCE src`.
 */
export function parseScriptStore(args: readonly Buffer[], legacy: boolean): ScriptSpec {
  const device = parseDevice(args[0]!.toString());
  let i = 1;
  let tag = Buffer.alloc(0);
  if (is(args[i], 'TAG') && i + 1 < args.length) {
    tag = Buffer.from(args[i + 1]!);
    i += 2;
  }
  const entryPoints: string[] = [];
  if (!legacy) {
    if (!is(args[i], 'ENTRY_POINTS')) fail(E.missingEntryPoints);
    const n = parseInt64(args[i + 1] ?? Buffer.alloc(0));
    if (n === undefined) fail(E.entryPointsCountNotNumber);
    if (n <= 0n) fail(E.entryPointsCountInvalid);
    for (let k = 0; k < Number(n); k++) {
      const a = args[i + 2 + k];
      if (a === undefined || is(a, 'SOURCE')) fail(E.missingEntryPoints);
      entryPoints.push(a.toString());
    }
    i += 2 + entryPoints.length;
  }
  if (!is(args[i], 'SOURCE') || i + 1 >= args.length) fail(E.missingSource);
  if (i + 2 < args.length) fail(E.invalidArgument(args[i + 2]!.toString()));
  return { device, tag, entryPoints, source: args[i + 1]!.toString('utf8') };
}
