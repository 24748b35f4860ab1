/**
 * Hostile TorchScript sources for AI.SCRIPTSTORE: deep nesting of every recursive construct of the
 * grammar, huge literals and identifiers, odd unicode and line ends, and random damage to valid
 * scripts. Test fixtures only.
 */
import { Rng, mutateBytes } from '@respai/core/fuzz';

const fn = (body: string) => `def f(a):\n    return ${body}\n`;

/** Constructs TorchScript's parser or compiler handles by recursion, nested `d` deep. */
export const NESTINGS: Record<string, (d: number) => string> = {
  parentheses: (d) => fn(`${'('.repeat(d)}a${')'.repeat(d)}`),
  lists: (d) => fn(`${'['.repeat(d)}a${']'.repeat(d)}`),
  dicts: (d) => fn(`${'{"k": '.repeat(d)}a${'}'.repeat(d)}`),
  calls: (d) => fn(`${'torch.relu('.repeat(d)}a${')'.repeat(d)}`),
  subscripts: (d) => fn(`a${'[0]'.repeat(d)}`),
  attributes: (d) => fn(`a${'.t()'.repeat(d)}`),
  unaryMinus: (d) => fn(`${'-'.repeat(d)}a`),
  not: (d) => `def f(a: bool):\n    return ${'not '.repeat(d)}a\n`,
  sums: (d) => fn(`a${' + a'.repeat(d)}`),
  powers: (d) => fn(`a${' ** a'.repeat(d)}`),
  comparisons: (d) => `def f(a: int):\n    return a${' < a'.repeat(d)}\n`,
  ternaries: (d) => fn(`${'a if True else '.repeat(d)}a`),
  strings: (d) => `def f(a):\n    s = ${'"x" '.repeat(d)}\n    return a\n`,
  /** `d` levels of indentation: the def's body, then `if`s, the deepest statement at level d. */
  blocks: (d) => {
    let src = 'def f(a):\n';
    for (let i = 1; i < d; i++) src += `${' '.repeat(i)}if True:\n`;
    return `${src}${' '.repeat(d)}a = a + 1\n return a\n`;
  },
  statements: (d) => `def f(a):\n${'    a = a + 1\n'.repeat(d)}    return a\n`,
  functions: (d) => Array.from({ length: d }, (_, i) => `def f${i}(a):\n    return ${i === 0 ? 'a' : `f${i - 1}(a)`}\n`).join(''),
};

/** Sources with huge tokens or odd characters: each either compiles or is refused, nothing else. */
export const ODDITIES: Record<string, string> = {
  longIdentifier: `def f(a):\n    ${'x'.repeat(1 << 20)} = a\n    return a\n`,
  longFunctionName: `def ${'g'.repeat(1 << 20)}(a):\n    return a\n`,
  longString: `def f(a):\n    s = "${'s'.repeat(1 << 20)}"\n    return a\n`,
  longInteger: fn(`a + ${'9'.repeat(100_000)}`),
  longFloat: fn(`a + 1.${'5'.repeat(100_000)}e99999`),
  longComment: `# ${'c'.repeat(1 << 20)}\ndef f(a):\n    return a\n`,
  longLine: fn(`a${' '.repeat(1 << 20)}`),
  manyArguments: `def f(${Array.from({ length: 5000 }, (_, i) => `a${i}`).join(', ')}):\n    return a0\n`,
  nul: 'def f(a):\n    return a\u0000 + 1\n',
  nulOnly: '\u0000'.repeat(1000),
  bom: '\ufeffdef f(a):\n    return a\n',
  unicodeIdentifier: 'def f(a):\n    ä = a\n    return ä\n',
  rtlOverride: 'def f(a):\n    return a \u202e+ 1\n',
  zeroWidth: 'def f(a):\n    return a\u200b + 1\n',
  emoji: 'def f(a):\n    s = "😀😀"\n    return a 😀\n',
  loneSurrogates: 'def f(a):\n    s = "\ud800\udc00\udfff\ud800"\n    return a\n',
  crLineEnds: 'def f(a):\r    b = a\r    return b\r',
  crlf: 'def f(a):\r\n    return a\r\n',
  formFeed: 'def f(a):\n\f    return a\n',
  tabsAndSpaces: 'def f(a):\n\tb = a\n        return b\n',
  unterminatedString: 'def f(a):\n    s = "abc\n    return a\n',
  unterminatedTriple: 'def f(a):\n    s = """abc\n    return a\n',
  backslashes: `def f(a):\n    return a ${'\\\n'.repeat(10_000)}\n`,
  emptySource: '',
  onlyNewlines: '\n'.repeat(100_000),
  dedentStorm: `def f(a):\n${Array.from({ length: 2000 }, (_, i) => `${' '.repeat(4 + (i % 50))}a = a\n`).join('')}    return a\n`,
  classDef: 'class A:\n    def f(self, a):\n        return a\n',
  lambda: 'def f(a):\n    g = lambda x: x\n    return g(a)\n',
  recursion: 'def f(a):\n    return f(a)\n',
  hugeRange: 'def f(a):\n    for i in range(10):\n        a = a + 1\n    return a\n',
};

/** Valid scripts that random damage starts from. */
export const VALID_SCRIPTS: readonly string[] = [
  'def bar(a, b):\n    return a + b\n\ndef bar_variadic(a, args : List[Tensor]):\n    return args[0] + args[1]\n',
  'def f(x: Tensor, k: int, s: str, l: List[float]):\n    y = x * k\n    for v in l:\n        y = y + v\n    if s == "neg":\n        y = -y\n    return y\n',
  'def g(tensors: List[Tensor], keys: List[str], args: List[str]):\n    a = tensors[0]\n    b = redis.asList(redis.execute("GET", keys[0]))\n    return a + torch.tensor(len(b))\n',
];

/** A damaged version of one of the valid scripts (byte-level, or a line doubled, dropped, nested). */
export function sourceMutant(seed: number, index: number): string {
  const r = new Rng((seed * 0x85ebca6b + index) >>> 0);
  const src = r.pick(VALID_SCRIPTS);
  if (r.chance(0.5)) return mutateBytes(Buffer.from(src), r).bytes.toString('utf8');
  const lines = src.split('\n');
  const i = r.int(lines.length);
  switch (r.int(4)) {
    case 0:
      lines.splice(i, 1);
      break;
    case 1:
      lines.splice(i, 0, lines[r.int(lines.length)]!);
      break;
    case 2:
      lines[i] = `${' '.repeat(r.int(12))}${lines[i]!.trimStart()}`;
      break;
    default: {
      const d = r.pick([10, 150, 199, 250, 5000]);
      lines.splice(i, 0, `    z = ${'('.repeat(d)}1${')'.repeat(d)}`);
    }
  }
  return lines.join('\n');
}
