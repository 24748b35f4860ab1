import { beforeAll, describe, expect, it } from 'vitest';
import { RespaiError, Tensor, errorText, type LoadedModel, type LoadedScript, type ScriptArg, type ScriptHost } from '@respai/core';
import { TorchBackend } from './index.js';
import { CPU, fakeHost, floats, settings, values } from './test-helpers.js';
import { torchModelBlob } from './testing.js';

const b = new TorchBackend();
beforeAll(() => b.init(settings));

const compile = (source: string, entryPoints: string[] = []): Promise<LoadedScript> =>
  b.loadScript({ source, device: CPU, entryPoints });
const run = (s: LoadedScript, fn: string, args: ScriptArg[], keys: string[] = [], host: ScriptHost = fakeHost()): Promise<Tensor[]> =>
  s.run(fn, args, keys, host, { slot: 0 });
const failure = async (p: Promise<unknown>): Promise<Error> => {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(Error);
    return e as Error;
  }
  throw new Error('expected a rejection');
};

const SCRIPT = `
def addtwo(a, b):
    return a + b

def addn(a, args: List[Tensor]):
    return a + torch.stack(args).sum()

def bar(tensors: List[Tensor], keys: List[str], args: List[str]):
    return tensors[0] + tensors[1] * float(args[0]) + float(len(keys))

def scaled(x: Tensor, n: int, s: float, name: str, flag: bool):
    if flag:
        return x * n + s + float(len(name))
    return x

def lists(xs: List[int], fs: List[float], ss: List[str]):
    return torch.tensor(xs).sum() + torch.tensor(fs).sum() + float(len(ss))

def two(a, b):
    return a + b, [a * b, a - b]

def nothing(a):
    pass

def maybe(a, k: int = 2):
    return a * k
`;

describe('compiling', () => {
  it('lists functions and their parameter types', async () => {
    const s = await compile(SCRIPT, ['bar']);
    expect([...s.functions].sort()).toEqual(['addn', 'addtwo', 'bar', 'lists', 'maybe', 'nothing', 'scaled', 'two']);
    expect(s.signature('addtwo')).toEqual(['Tensor', 'Tensor']);
    expect(s.signature('addn')).toEqual(['Tensor', 'List[Tensor]']);
    expect(s.signature('bar')).toEqual(['List[Tensor]', 'List[str]', 'List[str]']);
    expect(s.signature('scaled')).toEqual(['Tensor', 'int', 'float', 'str', 'bool']);
    expect(s.signature('lists')).toEqual(['List[int]', 'List[float]', 'List[str]']);
    expect(s.signature('nope')).toBeUndefined();
  });

  it("a source that does not compile: the compiler's message, at store time", async () => {
    const e = await failure(compile('def f(a):\n    return foo(a)\n'));
    expect(e.message).toMatch(/^undefined value foo:\n {2}File "<string>", line 2\n/);
    expect(e.message).toContain('return foo(a)');
    expect((await failure(compile('def f(a):\n  return a +\n'))).message).toMatch(/expected/i);
  });

  it("a compile error reads as the original's: libtorch's message with its final newline (a trailing space on the reply line)", async () => {
    const e = await failure(compile('return 1'));
    expect(e.message).toBe('expected def but found \'return\' here:\n  File "<string>", line 1\nreturn 1\n~~~~~~ <--- HERE\n');
    expect(errorText(e)).toBe('ERR expected def but found \'return\' here:   File "<string>", line 1 return 1 ~~~~~~ <--- HERE ');
  });

  it('a source whose last line has no newline (as strings sent by clients often are)', async () => {
    const s = await compile('def f(a):\n    return a + 1');
    expect(s.signature('f')).toEqual(['Tensor']);
  });

  it('an entry point the script does not define', async () => {
    expect((await failure(compile(SCRIPT, ['addtwo', 'nope']))).message).toBe('Function nope does not exist in the given script.');
  });
});

describe('running', () => {
  let s: LoadedScript;
  beforeAll(async () => {
    s = await compile(SCRIPT);
  });
  const a = floats([2], [1, 2]);
  const b2 = floats([2], [10, 20]);

  it('addtwo: tensors in, a tensor out', async () => {
    const [out] = await run(s, 'addtwo', [a, b2]);
    expect(values(out!)).toEqual([11, 22]);
  });

  it('addn: a List[Tensor] argument (LIST_INPUTS, or the deprecated $ form)', async () => {
    const [out] = await run(s, 'addn', [a, [b2, floats([2], [100, 200])]]);
    expect(values(out!)).toEqual([331, 332]);
  });

  it('entry points (tensors, keys, args) get exactly those three lists', async () => {
    const [out] = await run(s, 'bar', [[a, b2], ['k1', 'k2'], ['3']]);
    expect(values(out!)).toEqual([1 + 30 + 2, 2 + 60 + 2]);
    // Flat arguments are gathered: tensors, then KEYS, then every other argument as a string.
    const [flat] = await run(s, 'bar', [a, b2, 3], ['k1']);
    expect(values(flat!)).toEqual([1 + 30 + 1, 2 + 60 + 1]);
  });

  it('int, float, str and bool arguments, as numbers or as the strings of the command line', async () => {
    const expected = [1 * 3 + 0.5 + 4, 2 * 3 + 0.5 + 4];
    expect(values((await run(s, 'scaled', [a, 3, 0.5, 'abcd', 1]))[0]!)).toEqual(expected);
    expect(values((await run(s, 'scaled', [a, '3', '0.5', Buffer.from('abcd') as unknown as string, 'true']))[0]!)).toEqual(expected);
    expect(values((await run(s, 'scaled', [a, 3, 0.5, 'abcd', 0]))[0]!)).toEqual([1, 2]);
    expect(values((await run(s, 'lists', [[1, 2], ['0.5', 1.5], ['x', 'y', 'z']]))[0]!)).toEqual([3 + 2 + 3]);
  });

  it('tuples and lists of tensors are several outputs; None is none; defaults apply', async () => {
    const out = await run(s, 'two', [a, b2]);
    expect(out.map(values)).toEqual([
      [11, 22],
      [10, 40],
      [-9, -18],
    ]);
    expect(await run(s, 'nothing', [a])).toEqual([]);
    expect(values((await run(s, 'maybe', [a]))[0]!)).toEqual([2, 4]);
    expect(values((await run(s, 'maybe', [a, 5]))[0]!)).toEqual([5, 10]);
  });

  it('unknown functions, wrong argument counts and types: clear errors', async () => {
    expect((await failure(run(s, 'nope', [a]))).message).toBe('Function nope does not exist in the given script.');
    expect((await failure(run(s, 'addtwo', [a, a, a]))).message).toBe('Wrong number of inputs provided to function addtwo: it takes 2, 3 given');
    expect((await failure(run(s, 'maybe', []))).message).toBe('Wrong number of inputs provided to function maybe: it takes 1 to 2, 0 given');
    expect((await failure(run(s, 'scaled', [a, 'abc', 0.5, 'x', 1]))).message).toBe("argument 2 (n: int) of scaled must be an int, got 'abc'");
    expect((await failure(run(s, 'addtwo', [a, 3]))).message).toBe('argument 2 (b: Tensor) of addtwo must be a Tensor, got the number 3');
    expect((await failure(run(s, 'addtwo', [a, Tensor.fromValues('STRING', [1], [Buffer.from('x')])]))).message).toBe(
      'TORCH cannot take STRING tensors: torch has no string tensor type',
    );
  });

  it('runtime errors inside the script: the cause and where, on one line', async () => {
    const e = await failure(run(s, 'addtwo', [a, floats([3], [1, 2, 3])]));
    expect(e.message).toBe(
      'The size of tensor a (2) must match the size of tensor b (3) at non-singleton dimension 0 (TorchScript addtwo, line 3: return a + b)',
    );
    const e2 = await failure(run(s, 'addn', [a, [b2, floats([1], [1])]]));
    expect(e2.message).toBe(
      'stack expects each tensor to be equal size, but got [2] at entry 0 and [1] at entry 1 (TorchScript addn, line 6: return a + torch.stack(args).sum())',
    );
  });

  it('dispose: later runs reject', async () => {
    const t = await compile(SCRIPT);
    t.dispose();
    expect((await failure(run(t, 'addtwo', [a, a]))).message).toBe('the script was disposed');
  });
});

describe('redis.execute', () => {
  // commands.md's example (with the helper it forgot to define), and redisai-py's entry-point form.
  const REDIS = `
def redis_string_int_to_tensor(redis_value: Any):
    return torch.tensor(int(str(redis_value)))

def int_set_get(key: str, value: int):
    redis.execute("SET", key, str(value))
    res = redis.execute("GET", key)
    return redis_string_int_to_tensor(res)

def int_set_get_ep(tensors: List[Tensor], keys: List[str], args: List[str]):
    key = keys[0]
    value = int(args[0])
    redis.execute("SET", key, str(value))
    res = redis.execute("GET", key)
    return redis_string_int_to_tensor(res)

def incr(key: str):
    redis.execute("SET", key, "41")
    return redis_string_int_to_tensor(redis.execute("INCR", key))

def int_list(tensors: List[Tensor], keys: List[str], args: List[str]):
    for value in args:
        redis.execute("RPUSH", keys[0], value)
    values = redis.asList(redis.execute("LRANGE", keys[0], "0", str(len(args))))
    l = [torch.tensor(int(str(v))).reshape(1, 1) for v in values]
    return torch.cat(l, dim=0)

def missing(key: str):
    res = redis.execute("GET", key)
    # TorchScript folds \`res is None\` to False for an Any; nil is None all the same.
    if isinstance(res, str):
        return torch.tensor(1)
    return torch.tensor(-1)

def set_only(key: str, value: str):
    redis.execute("SET", key, value)
    return torch.tensor(0)

def bad(key: str):
    redis.execute("SET", key)
    return torch.tensor(0)
`;
  let s: LoadedScript;
  beforeAll(async () => {
    s = await compile(REDIS);
  });

  it("commands.md's SET then GET: str and int arguments, the reply parsed back", async () => {
    const host = fakeHost();
    const [out] = await run(s, 'int_set_get', ['x{1}', 3], ['{1}'], host);
    expect(out!.dtype).toBe('INT64');
    expect(values(out!)).toEqual([3n]);
    expect(host.calls).toEqual([
      ['SET', 'x{1}', '3'],
      ['GET', 'x{1}'],
    ]);
    const [ep] = await run(s, 'int_set_get_ep', [[], ['y{1}'], ['42']], ['y{1}'], host);
    expect(values(ep!)).toEqual([42n]);
  });

  it('integer replies are ints, arrays are lists (redis.asList), nil is None', async () => {
    expect(values((await run(s, 'incr', ['n']))[0]!)).toEqual([42n]);
    const [list] = await run(s, 'int_list', [[], ['l'], ['1', '2', '3']]);
    expect(list!.shape).toEqual([3, 1]);
    expect(values(list!)).toEqual([1n, 2n, 3n]);
    expect(values((await run(s, 'missing', ['nokey']))[0]!)).toEqual([-1n]);
  });

  it('a command whose result the script ignores still runs; arguments stay binary-safe', async () => {
    const host = fakeHost();
    await run(s, 'set_only', ['k', 'v\u00e9\u0000z'], [], host);
    expect(host.data.get('k')).toBe('v\u00e9\u0000z');
  });

  it('an error reply fails the script with the reply text', async () => {
    const e = await failure(run(s, 'bad', ['k']));
    expect(e.message).toBe("Redis command returned an error: ERR wrong number of arguments for 'set' command");
  });

  it("the host's own errors come back as they are (exact reply texts)", async () => {
    const refusal = new RespaiError('ERR this command is not allowed in a script');
    const host = fakeHost({ execute: () => Promise.reject(refusal) });
    expect(await failure(run(s, 'set_only', ['k', 'v'], [], host))).toBe(refusal);
    const thrower = fakeHost({
      execute: () => {
        throw new Error('sync failure');
      },
    });
    expect((await failure(run(s, 'set_only', ['k', 'v'], [], thrower))).message).toBe('sync failure');
  });

  it('concurrent scripts each talk to their own host', async () => {
    const hosts = Array.from({ length: 6 }, () => fakeHost());
    const outs = await Promise.all(hosts.map((h, i) => run(s, 'int_set_get', [`k${i}`, i * 10], [], h)));
    outs.forEach(([out], i) => expect(values(out!)).toEqual([BigInt(i * 10)]));
    hosts.forEach((h, i) => expect(h.data.get(`k${i}`)).toBe(String(i * 10)));
  });
});

describe('redisAI.model_execute', () => {
  const SRC = `
def run_model(tensors: List[Tensor], keys: List[str], args: List[str]):
    a = torch.tensor([[2.0, 3.0], [2.0, 3.0]])
    b = torch.tensor([[2.0, 3.0], [2.0, 3.0]])
    return redisAI.model_execute(keys[0], [a, b], 1)

def chain(x: Tensor, key: str):
    outs = redisAI.model_execute(key, [x, x], 1)
    return redisAI.model_execute(key, [outs[0], x], 1)[0]
`;
  let s: LoadedScript;
  let m: LoadedModel;
  beforeAll(async () => {
    s = await compile(SRC);
    m = await b.loadModel({ blob: torchModelBlob('def forward(self, a, b):\n    return a + b\n'), device: CPU, inputs: [], outputs: [], batchSize: 0 });
  });
  // The engine runs the stored model straight on its backend; here, this backend's own model.
  const host = (): ScriptHost & { keys: string[] } => {
    const keys: string[] = [];
    return {
      keys,
      execute: () => Promise.reject(new Error('unused')),
      modelExecute: async (key, inputs, nOutputs) => {
        keys.push(key);
        if (key !== 'm{1}') throw new RespaiError('ERR model key is empty');
        expect(nOutputs).toBe(1);
        return m.run(inputs, { slot: 0 });
      },
    };
  };

  it("runs a stored model from a script (RedisAI's test_model_execute)", async () => {
    const h = host();
    const [out] = await run(s, 'run_model', [[], ['m{1}'], []], ['m{1}'], h);
    expect(out!.shape).toEqual([2, 2]);
    expect(values(out!)).toEqual([4, 6, 4, 6]);
    expect(h.keys).toEqual(['m{1}']);
  });

  it('several calls in one script, tensors passed through', async () => {
    const [out] = await run(s, 'chain', [floats([2], [1, 2]), 'm{1}'], [], host());
    expect(values(out!)).toEqual([3, 6]);
  });

  it("the host's error (a missing model) is the script's error, text unchanged", async () => {
    const e = await failure(run(s, 'run_model', [[], ['nope'], []], [], host()));
    expect(RespaiError.isInstance(e)).toBe(true);
    expect(e.message).toBe('ERR model key is empty');
  });
});
