import { counted, scriptArgs, tensorSetArgs } from './args.js';
import type { RespaiClient, ScriptArgs, TensorSetOptions } from './client.js';
import type { Tensor, TensorInput } from './dtype.js';
import { RespaiError } from './errors.js';
import { list, tensorReply } from './replies.js';
import { isReplyError, type Arg, type RawReply } from './transport.js';

/** AI.DAGEXECUTE's header. */
export interface DagOptions {
  /** Keys read into the DAG before any op runs. */
  load?: readonly string[];
  /** DAG names written back to the keyspace after every op succeeded. */
  persist?: readonly string[];
  /**
   * The key whose node runs the DAG in a cluster (ROUTING). When no load, persist or routing is
   * given, the first model or script key of the ops is used.
   */
  routing?: string;
  /** ms the DAG may wait in the queue; past it `run()` rejects with a `TIMEDOUT` RespaiError. */
  timeout?: number;
  /** AI.DAGEXECUTE_RO: no persist and no scripts, so replicas may run it. */
  readOnly?: boolean;
}

type Parse = (entry: RawReply) => unknown;

const ok: Parse = () => 'OK' as const;

/**
 * A DAG being built: each method adds one op and returns the builder, typed with that op's
 * result; `run()` sends AI.DAGEXECUTE and resolves the results in op order. Names inside a DAG
 * are local to it unless loaded or persisted.
 *
 * The builder is mutable: each call adds to the same DAG.
 */
export class Dag<R extends readonly unknown[] = []> {
  private readonly ops: Arg[][] = [];
  private readonly parsers: Parse[] = [];
  private readonly keys: string[] = [];

  constructor(
    private readonly client: RespaiClient,
    private readonly options: DagOptions = {},
  ) {}

  private add<T>(args: Arg[], parse: Parse): Dag<[...R, T]> {
    this.ops.push(args);
    this.parsers.push(parse);
    return this as unknown as Dag<[...R, T]>;
  }

  /** Sets a DAG-local tensor (result `'OK'`). */
  tensorSet(name: string, data: TensorInput | Tensor, options: TensorSetOptions = {}): Dag<[...R, 'OK']> {
    return this.add(tensorSetArgs('AI.TENSORSET', name, data, options), ok);
  }

  /** Reads a tensor (result: the tensor, as {@link RespaiClient.tensorGet} returns it). */
  tensorGet(name: string): Dag<[...R, Tensor]> {
    return this.add(['AI.TENSORGET', name, 'META', 'BLOB'], tensorReply);
  }

  /** Runs a model on DAG tensors (result `'OK'`). */
  modelExecute(key: string, options: { inputs: readonly string[]; outputs: readonly string[] }): Dag<[...R, 'OK']> {
    this.keys.push(key);
    return this.add(['AI.MODELEXECUTE', key, ...counted('INPUTS', options.inputs), ...counted('OUTPUTS', options.outputs)], ok);
  }

  /** Runs a script function on DAG tensors and values (result `'OK'`). */
  scriptExecute(key: string, fn: string, options: ScriptArgs = {}): Dag<[...R, 'OK']> {
    this.keys.push(key);
    return this.add(['AI.SCRIPTEXECUTE', key, fn, ...scriptArgs(options)], ok);
  }

  /** The command this DAG sends. */
  args(): Arg[] {
    const o = this.options;
    const args: Arg[] = [o.readOnly ? 'AI.DAGEXECUTE_RO' : 'AI.DAGEXECUTE'];
    if (o.load?.length) args.push(...counted('LOAD', o.load));
    if (o.persist?.length) args.push(...counted('PERSIST', o.persist));
    const routing = this.routingKey();
    if (o.routing !== undefined || (!o.load?.length && !o.persist?.length && routing !== undefined)) args.push('ROUTING', routing!);
    if (o.timeout !== undefined) args.push('TIMEOUT', String(o.timeout));
    for (const op of this.ops) args.push('|>', ...op);
    return args;
  }

  /** The key that routes the DAG in a cluster. */
  routingKey(): string | undefined {
    const o = this.options;
    return o.routing ?? o.load?.[0] ?? o.persist?.[0] ?? this.keys[0];
  }

  /**
   * Sends the DAG. Resolves one result per op, typed by the op. An op that failed rejects the
   * call with a RespaiError carrying that op's text and index (`op`); a DAG that waited past its
   * TIMEOUT rejects with `TIMEDOUT`.
   */
  async run(): Promise<R> {
    const command = this.options.readOnly ? 'AI.DAGEXECUTE_RO' : 'AI.DAGEXECUTE';
    const reply = await this.client.send(this.args(), this.routingKey(), this.options.readOnly === true);
    if (!Array.isArray(reply)) {
      const s = Buffer.isBuffer(reply) ? reply.toString('latin1') : reply;
      if (s === 'TIMEDOUT') throw new RespaiError('TIMEDOUT', command);
    }
    const entries = list(reply);
    const failed = entries.findIndex((e) => isReplyError(e));
    if (failed !== -1) throw new RespaiError((entries[failed] as Error).message, command, { op: failed });
    return entries.map((e, i) => this.parsers[i]!(e)) as unknown as R;
  }
}
