import { readFileSync } from 'node:fs';
import { RespaiError, errorText } from '@respai/core';
import { describe, expect, it } from 'vitest';
import { itShared, sharedPath } from '@respai/core/testing';
import { INVALID_GRAPHDEF, loadErrorReply, prepareGraph, sniff } from './graph.js';
import { attr, GraphDefWriter } from './testing/graphdef-writer.js';
import { convnetModel, mlpModel, mulModel } from './testing/models.js';

const F = attr.type('FLOAT');

/** The reply text a load error becomes. */
function loadError(blob: Uint8Array, inputs: string[], outputs: string[]): string {
  try {
    prepareGraph(blob, inputs, outputs);
  } catch (e) {
    return errorText(e);
  }
  throw new Error('the load succeeded');
}

describe('INPUTS and OUTPUTS node names', () => {
  const blob = mulModel();

  it('accepts name and name:0, and reports them as given', () => {
    const p = prepareGraph(blob, ['a', 'b:0'], ['mul:0']);
    expect(p.inputs.map((s) => [s.name, s.key, s.dtype])).toEqual([
      ['a', 'a:0', 'FLOAT'],
      ['b:0', 'b:0', 'FLOAT'],
    ]);
    expect(p.outputs.map((s) => [s.name, s.key, s.dtype])).toEqual([['mul:0', 'mul:0', 'FLOAT']]);
  });

  it('an unknown input has the exact catalog text (with a final dot)', () => {
    expect(loadError(blob, ['a', 'x'], ['mul'])).toBe('ERR Input node named "x" not found in TF graph.');
    expect(loadError(blob, ['a:1x'], ['mul'])).toBe('ERR Input node named "a:1x" not found in TF graph.');
  });

  it('an unknown output has the exact catalog text (no final dot), as a RespaiError', () => {
    expect(loadError(blob, ['a', 'b'], ['nope'])).toBe('ERR Output node named "nope" not found in TF graph');
    expect(() => prepareGraph(blob, ['a', 'b'], ['nope'])).toThrow(RespaiError);
  });

  it('inputs are checked before outputs', () => {
    expect(loadError(blob, ['x'], ['y'])).toBe('ERR Input node named "x" not found in TF graph.');
  });

  it('refuses a placeholder the outputs need but INPUTS lack', () => {
    expect(loadError(blob, ['a'], ['mul'])).toBe('ERR Placeholder "b" must be fed to compute the OUTPUTS, but is not among the INPUTS');
  });

  it('feeding an intermediate node cuts the graph there', () => {
    const p = prepareGraph(blob, ['mul'], ['c']);
    expect(p.nodeCount).toBe(1); // only c runs; a, b and mul's inputs are pruned
  });
});

describe('op support is checked at load', () => {
  it('lists every unsupported op with the nodes using it', () => {
    const g = new GraphDefWriter();
    g.placeholder('x', 'FLOAT');
    g.node('f1', 'FancyOp', ['x']);
    g.node('f2', 'FancyOp', ['f1']);
    g.node('q', 'QuantizeV2', ['f2']);
    g.node('y', 'Relu', ['q'], { T: F });
    expect(loadError(g.toBuffer(), ['x'], ['y'])).toBe(
      'ERR TF graph uses ops the TF backend (tfjs-converter 4.22.0) cannot run: FancyOp (nodes "f1", "f2"); QuantizeV2 (node "q")',
    );
  });

  it('ignores unsupported ops outside the sub-graph the outputs need (training nodes)', () => {
    const g = new GraphDefWriter();
    g.placeholder('x', 'FLOAT');
    g.node('y', 'Relu', ['x'], { T: F });
    g.node('save', 'SaveV2', ['x']);
    expect(prepareGraph(g.toBuffer(), ['x'], ['y']).nodeCount).toBe(1);
  });

  it('refuses channels-first pooling, which tfjs would silently compute as NHWC', () => {
    const g = new GraphDefWriter();
    g.placeholder('x', 'FLOAT', [1, 3, 4, 4]);
    g.node('p', 'AvgPool', ['x'], {
      T: F,
      ksize: attr.ints([1, 1, 2, 2]),
      strides: attr.ints([1, 1, 2, 2]),
      padding: attr.str('VALID'),
      data_format: attr.str('NCHW'),
    });
    expect(loadError(g.toBuffer(), ['x'], ['p'])).toMatch(/cannot run: AvgPool \(data_format NCHW not supported\) \(node "p"\)$/);
  });

  it('refuses TF2 function calls that were not inlined, saying how to fix it', () => {
    const g = new GraphDefWriter();
    g.placeholder('x', 'FLOAT');
    g.function({ name: 'f', inputs: [{ name: 'a', dtype: 'FLOAT' }], outputs: [{ name: 'r', dtype: 'FLOAT' }], nodes: [], ret: { r: 'a' } });
    g.node('call', 'StatefulPartitionedCall', ['x'], { f: attr.func('f') });
    expect(loadError(g.toBuffer(), ['x'], ['call'])).toMatch(
      /cannot run: StatefulPartitionedCall \(node "call"\); inline function calls when freezing \(convert_variables_to_constants_v2\)$/,
    );
  });

  it('checks the ops inside the functions the graph calls', () => {
    const g = new GraphDefWriter();
    g.placeholder('p', 'BOOL', []);
    g.placeholder('x', 'FLOAT');
    const branch = (name: string, op: string) =>
      g.function({
        name,
        inputs: [{ name: 'a', dtype: 'FLOAT' }],
        outputs: [{ name: 'r', dtype: 'FLOAT' }],
        nodes: [{ name: 'n', op, inputs: ['a'], attrs: { T: F } }],
        ret: { r: 'n:y:0' },
      });
    branch('then_fn', 'Relu');
    branch('else_fn', 'Gelu');
    g.node('if', 'StatelessIf', ['p', 'x'], {
      then_branch: attr.func('then_fn'),
      else_branch: attr.func('else_fn'),
      Tcond: attr.type('BOOL'),
      Tin: attr.types(['FLOAT']),
      Tout: attr.types(['FLOAT']),
    });
    expect(loadError(g.toBuffer(), ['p', 'x'], ['if'])).toMatch(/cannot run: Gelu \(node "else_fn\/n"\)$/);
  });
});

describe('constants', () => {
  it('refuses an INT64 constant beyond int32, naming it', () => {
    const g = new GraphDefWriter();
    g.placeholder('x', 'INT64', [2]);
    g.const('big', { dtype: 'INT64', shape: [2], values: [1n, 1n << 40n] });
    g.node('y', 'AddV2', ['x', 'big'], { T: attr.type('INT64') });
    expect(loadError(g.toBuffer(), ['x'], ['y'])).toBe(
      'ERR Const node "big": DT_INT64 value 1099511627776 at index 1 does not fit in int32, the widest integer tfjs computes in',
    );
  });

  it('the same through the int64_val encoding', () => {
    const g = new GraphDefWriter();
    g.placeholder('x', 'INT64', [1]);
    g.const('big', { dtype: 'INT64', shape: [1], values: [-(1n << 33n)], encoding: 'values' });
    g.node('y', 'AddV2', ['x', 'big'], { T: attr.type('INT64') });
    expect(loadError(g.toBuffer(), ['x'], ['y'])).toMatch(/value -8589934592 at index 0 does not fit in int32/);
  });

  it('a Const sharing its name with a node of a function body gets a unique weight name', () => {
    const g = new GraphDefWriter();
    g.placeholder('x', 'FLOAT', []);
    g.const('k', { dtype: 'FLOAT', shape: [], values: [2] });
    g.node('s', 'Mul', ['x', 'k'], { T: F });
    g.function({
      name: 'body',
      inputs: [{ name: 'a', dtype: 'FLOAT' }],
      outputs: [{ name: 'r', dtype: 'FLOAT' }],
      nodes: [
        { name: 'k', op: 'Const', attrs: { dtype: F, value: attr.tensor({ dtype: 'FLOAT', shape: [], values: [3] }) } },
        { name: 's', op: 'Mul', inputs: ['a', 'k:output:0'], attrs: { T: F } },
      ],
      ret: { r: 's:z:0' },
    });
    g.placeholder('p', 'BOOL', []);
    g.node('if', 'StatelessIf', ['p', 's'], {
      then_branch: attr.func('body'),
      else_branch: attr.func('body'),
      Tcond: attr.type('BOOL'),
      Tin: attr.types(['FLOAT']),
      Tout: attr.types(['FLOAT']),
    });
    const p = prepareGraph(g.toBuffer(), ['x', 'p'], ['if']);
    const names = p.artifact.weightSpecs.map((w) => w.name);
    expect(new Set(names).size).toBe(2);
    expect(names).not.toContain('k');
    const topo = p.artifact.modelTopology as { node: { name: string; input: string[] }[] };
    expect(topo.node.find((n) => n.name === 's')!.input).toEqual(['x', 'main/k/_w0']);
  });
});

describe('what is not a frozen GraphDef is refused with what was expected', () => {
  const expected = /^ERR Invalid GraphDef: .+; the TF backend runs frozen TensorFlow GraphDefs \(a binary GraphDef \.pb\)$/;

  it.each([
    ['empty', Buffer.alloc(0), 'the model blob is empty'],
    ['random bytes', Buffer.from('d3b07384d113edec49eaa6238ad5ff00c86d0f5f1e0c1f4d2c96a0c4d6b7e3', 'hex'), 'not a protocol buffer'],
    ['a zip (zipped SavedModel)', Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), Buffer.alloc(60)]), 'ZIP archive'],
    ['an ONNX header', Buffer.from([0x08, 0x07, 0x12, 0x04, 0x74, 0x65, 0x73, 0x74, 0x3a, 0x02, 0x0a, 0x00]), 'ONNX model'],
    ['a SavedModel', Buffer.from([0x08, 0x01, 0x12, 0x02, 0x0a, 0x00]), 'SavedModel (saved_model.pb)'],
    ['a TFLite flatbuffer', Buffer.concat([Buffer.alloc(4), Buffer.from('TFL3'), Buffer.alloc(24)]), 'TensorFlow Lite'],
    ['4 KiB of zeros', Buffer.alloc(4096), 'not a protocol buffer'],
  ])('%s', (_name, blob, why) => {
    const text = loadError(blob, ['a'], ['b']);
    expect(text).toMatch(expected);
    expect(text).toContain(why);
  });

  it('a truncated GraphDef', () => {
    const blob = mlpModel(16).blob;
    expect(loadError(blob.subarray(0, blob.length >> 1), ['input'], ['output'])).toMatch(expected);
  });

  itShared('the real mnist.onnx', ['models/mnist.onnx'], () => {
    expect(loadError(readFileSync(sharedPath('models/mnist.onnx')), ['Input3'], ['x'])).toContain('this is an ONNX model (use the ONNX backend)');
  });

  it('every truncation is refused (ERR Invalid GraphDef), except one that ends exactly after a whole top-level field', () => {
    // A protobuf message has no end marker: a prefix ending on a top-level field boundary is a
    // complete, valid GraphDef (TensorFlow takes it too); every other prefix cuts a field short.
    const boundaries = (b: Uint8Array): Set<number> => {
      const out = new Set<number>();
      let i = 0;
      const varint = () => {
        let v = 0;
        for (let shift = 0; ; shift += 7) {
          const byte = b[i++]!;
          v += (byte & 0x7f) * 2 ** shift;
          if (byte < 0x80) return v;
        }
      };
      while (i < b.length) {
        const wire = varint() & 7;
        if (wire === 2) {
          const length = varint();
          i += length;
        } else if (wire === 0) varint();
        else i += wire === 1 ? 8 : 4;
        out.add(i);
      }
      return out;
    };
    const mlp = mlpModel(4);
    for (const [blob, ins, outs] of [
      [mulModel(), ['a', 'b'], ['c']],
      [mlp.blob, mlp.inputs, mlp.outputs],
    ] as const) {
      const whole = boundaries(blob);
      let refused = 0;
      for (let n = 0; n < blob.length; n++) {
        if (whole.has(n)) continue;
        try {
          prepareGraph(blob.subarray(0, n), ins, outs);
          throw new Error(`a prefix of ${n} bytes was accepted`);
        } catch (e) {
          if ((e as Error).name !== 'InvalidGraphDef') throw new Error(`a prefix of ${n} bytes: ${(e as Error).message}`);
          expect(errorText(loadErrorReply(e, { debug() {} }))).toBe(INVALID_GRAPHDEF);
          refused++;
        }
      }
      expect(refused).toBeGreaterThan(blob.length - whole.size - 1);
    }
  });

  itShared("graph.pb cut to 99% (148 of 150 bytes) drops only its trailing empty 'library' field: the same graph", ['models/graph.pb'], () => {
    const blob = readFileSync(sharedPath('models/graph.pb'));
    const cut = blob.subarray(0, Math.floor(blob.length * 0.99));
    expect([...blob.subarray(cut.length)]).toEqual([0x12, 0x00]); // field 2 (library), length 0
    expect(prepareGraph(cut, ['a', 'b'], ['mul']).artifact.modelTopology).toEqual(prepareGraph(blob, ['a', 'b'], ['mul']).artifact.modelTopology);
    expect(loadError(blob.subarray(0, blob.length - 3), ['a', 'b'], ['mul'])).toContain('Invalid GraphDef: not a protocol buffer');
  });

  it('sniff accepts the graphs this package writes', () => {
    for (const b of [mulModel(), mlpModel(8).blob, convnetModel().blob]) expect(sniff(b)).toBeUndefined();
  });
});

describe('specs', () => {
  it('reports placeholder shapes (informational) and declared dtypes', () => {
    const m = mlpModel(8);
    const p = prepareGraph(m.blob, m.inputs, m.outputs);
    expect(p.inputs[0]).toMatchObject({ name: 'input', dtype: 'FLOAT', shape: [-1, 28, 28] });
    expect(p.outputs[0]).toMatchObject({ name: 'output', dtype: 'FLOAT' });
  });

  it('strips the shape from fed placeholders, so tfjs does not assert it', () => {
    const m = mlpModel(8);
    const topo = prepareGraph(m.blob, m.inputs, m.outputs).artifact.modelTopology as { node: { name: string; attr: object }[] };
    expect(topo.node.find((n) => n.name === 'input')!.attr).toEqual({ dtype: { type: 1 } });
  });
});
