/**
 * Tensors through Debian's redis-py (python3-redis 4.3) against the built server: a Python script
 * talks to the server and prints what it got as JSON; the assertions are here. redis-py strips a
 * leading `ERR ` from error texts (and only that prefix), which is why clients compare the rest.
 */
import { execFile, execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from './helpers/server.js';

const PYTHON = '/usr/bin/python3';

function pythonHasRedis(): boolean {
  try {
    execFileSync(PYTHON, ['-c', 'import redis'], { stdio: 'ignore', timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
}

const hasRedisPy = pythonHasRedis();
if (!hasRedisPy) {
  console.warn(`redis-py tests skipped: ${PYTHON} cannot import redis (apt-get install python3-redis)`);
}

const SCRIPT = String.raw`
import json, struct, sys
import redis

r = redis.Redis(host='127.0.0.1', port=int(sys.argv[1]))
out = {'version': redis.__version__}

def b(x):
    """bytes -> latin1 text, recursively, so the reply survives JSON unchanged."""
    if isinstance(x, bytes):
        return x.decode('latin1')
    if isinstance(x, list):
        return [b(v) for v in x]
    return x

def error_of(*args):
    try:
        r.execute_command(*args)
    except redis.exceptions.ResponseError as e:
        return {'class': type(e).__name__, 'text': str(e)}
    return None

out['set'] = b(r.execute_command('AI.TENSORSET', 'k', 'FLOAT', 2, 'VALUES', 1.5, 2.5))
out['meta_values'] = b(r.execute_command('AI.TENSORGET', 'k', 'META', 'VALUES'))

floats = [1.0, -0.5, 0.25, 3.0e10]
blob = struct.pack('<4f', *floats)
out['set_blob'] = b(r.execute_command('AI.TENSORSET', 'img', 'FLOAT', 2, 2, 'BLOB', blob))
got = r.execute_command('AI.TENSORGET', 'img', 'BLOB')
out['blob_equal'] = got == blob
out['blob_floats'] = list(struct.unpack('<4f', got))
out['meta_blob'] = b(r.execute_command('AI.TENSORGET', 'img', 'META', 'BLOB'))

ints = [-32768, -1, 0, 32767]
out['set_int16'] = b(r.execute_command('AI.TENSORSET', 'i16', 'INT16', 4, 'BLOB', struct.pack('<4h', *ints)))
out['int16_values'] = b(r.execute_command('AI.TENSORGET', 'i16', 'VALUES'))

out['errors'] = {
    'dtype': error_of('AI.TENSORSET', 'k', 'FLOATY', 2),
    'values': error_of('AI.TENSORSET', 'k', 'FLOAT', 2, 'VALUES', 1),
    'missing': error_of('AI.TENSORGET', 'nosuch'),
    'wrongtype': error_of('GET', 'k'),
    'arity': error_of('ai.TensorSet', 'k', 'FLOAT'),
}
out['after_errors'] = b(r.execute_command('AI.TENSORGET', 'k', 'VALUES'))
print(json.dumps(out))
`;

let server: RunningServer;

beforeAll(async () => {
  if (hasRedisPy) server = await startServer();
});

afterAll(async () => {
  if (server) expect(await server.stop()).toBe(0);
});

function runPython(port: number): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    execFile(PYTHON, ['-c', SCRIPT, String(port)], { timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`python failed: ${err.message}\n${stderr}`));
      else resolve(JSON.parse(stdout) as Record<string, unknown>);
    });
  });
}

describe.skipIf(!hasRedisPy)('redis-py', () => {
  let out: Record<string, unknown>;
  beforeAll(async () => {
    out = await runPython(server.port);
  });

  it('is Debian redis-py 4.x', () => {
    expect(String(out.version)).toMatch(/^4\./);
  });

  it('AI.TENSORSET k FLOAT 2 VALUES 1.5 2.5; AI.TENSORGET k META VALUES', () => {
    expect(out.set).toBe('OK');
    expect(out.meta_values).toEqual(['dtype', 'FLOAT', 'shape', [2], 'values', ['1.5', '2.5']]);
  });

  it('a struct.pack BLOB round trip', () => {
    expect(out.set_blob).toBe('OK');
    expect(out.blob_equal).toBe(true);
    expect(out.blob_floats).toEqual([1, -0.5, 0.25, 30000001024]); // 3e10 as float32
    const blob = Buffer.from(new Float32Array([1, -0.5, 0.25, 3e10]).buffer).toString('latin1');
    expect(out.meta_blob).toEqual(['dtype', 'FLOAT', 'shape', [2, 2], 'blob', blob]);
  });

  it('INT16 values come back as Python ints, negatives included', () => {
    expect(out.set_int16).toBe('OK');
    expect(out.int16_values).toEqual([-32768, -1, 0, 32767]);
  });

  it('errors: ResponseError with the text minus a leading "ERR " (other codes kept)', () => {
    expect(out.errors).toEqual({
      dtype: { class: 'ResponseError', text: 'invalid data type' },
      values: { class: 'ResponseError', text: "wrong number of values was given in 'AI.TENSORSET' command" },
      missing: { class: 'ResponseError', text: 'tensor key is empty or in a different shard' },
      wrongtype: { class: 'ResponseError', text: 'WRONGTYPE Operation against a key holding the wrong kind of value' },
      arity: { class: 'ResponseError', text: "wrong number of arguments for 'ai.tensorset' command" },
    });
    expect(out.after_errors).toEqual(['1.5', '2.5']);
  });
});
