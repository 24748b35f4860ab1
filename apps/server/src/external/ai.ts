import { E, RespaiError, RunStats, fail, keyOf, type Key, type ModelSpec, type ScriptSpec } from '@respai/core';
import { MARKER, Miss, OverlayKeyspace, aiTypeOf, sameSlot, type ExternalKeyspace, type Field, type ReadMode } from '@respai/keyspace-redis';
import { OK, type Reply } from '../resp/reply.js';
import { runInfoReply } from '../commands/ai.info.js';
import { modelGetReply } from '../commands/ai.modelget.js';
import { scriptGetReply } from '../commands/ai.scriptget.js';
import type { Command, ExecContext, ParseContext } from '../commands/types.js';
import { keyPlan, planKeys, type KeyPlan } from './plan.js';

/**
 * AI commands over the external keyspace (docs/scale-out.md, "How commands run"). Runs and tensor
 * commands execute respai's own command code over a request overlay; storing, reading and deleting
 * models and scripts are handled here, on the stored metadata, without loading anything they do
 * not need.
 */
export interface AiRequest {
  readonly ext: ExternalKeyspace;
  readonly ctx: ExecContext;
  readonly command: Command;
  /** The arguments after the command name. */
  readonly args: Buffer[];
  readonly parse: ParseContext;
}

/** A Miss can repeat at most this many times for one command (each names a key the plan missed). */
const MAX_MISSES = 8;

const checkSlots = (r: AiRequest, keys: Iterable<Key>) => {
  if (r.ext.store.mode === 'cluster' && !sameSlot(keys)) fail(E.crossSlot);
};

/** The command's own code over an overlay of the store's values: prefetch, run, write back. */
async function overOverlay(r: AiRequest, plan: KeyPlan, run: (ctx: ExecContext) => Reply | Promise<Reply>): Promise<Reply> {
  checkSlots(r, planKeys(plan));
  const reads = new Map(plan.reads);
  for (let attempt = 0; ; attempt++) {
    const overlay = new OverlayKeyspace();
    try {
      await r.ext.prefetch(overlay, reads);
      for (const k of plan.writes) overlay.putWriteOnly(k);
      let reply: Reply;
      try {
        reply = await run(overlayContext(r.ctx, overlay));
      } catch (e) {
        if (!(e instanceof Miss) || attempt >= MAX_MISSES) throw e;
        // Nothing ran yet: fetch what the plan missed, and start again.
        checkSlots(r, [...planKeys(plan), e.key]);
        reads.set(e.key, (e.type === 'tensor' || e.type === 'model' || e.type === 'script' ? e.type : 'any') satisfies ReadMode);
        continue;
      }
      if (overlay.written.size > 0) await r.ext.flush(overlay);
      return reply;
    } finally {
      overlay.close();
    }
  }
}

/**
 * The caller's context with the overlay as its keyspace and the engine seen over it
 * (`Engine.over`); everything else (the client, options, stats) is the server's own.
 */
function overlayContext(ctx: ExecContext, overlay: OverlayKeyspace): ExecContext {
  const engine = ctx.server.engine.over(overlay);
  const server = Object.create(ctx.server, { engine: { value: engine }, keyspace: { value: overlay } }) as ExecContext['server'];
  return { server, client: ctx.client, keyspace: overlay };
}

const parsed = <T>(r: AiRequest): T => r.command.parse(r.args, r.parse) as T;

async function storeModel(r: AiRequest): Promise<Reply> {
  const { key, spec } = parsed<{ key: Key; spec: ModelSpec }>(r);
  const model = await r.ctx.server.engine.createModel(spec);
  await r.ext.storeModel(key, model, spec);
  return OK;
}

async function storeScript(r: AiRequest): Promise<Reply> {
  const { key, spec } = parsed<{ key: Key; spec: ScriptSpec }>(r);
  const script = await r.ctx.server.engine.createScript(spec);
  await r.ext.storeScript(key, script, spec);
  return OK;
}

async function modelGet(r: AiRequest): Promise<Reply> {
  const { key, meta, blob } = parsed<{ key: Key; meta: boolean; blob: boolean }>(r);
  const m = await r.ext.getModel(key, blob);
  return modelGetReply(m.meta, m.blob, meta, r.ctx.server.engine.config.modelChunkSize);
}

async function scriptGet(r: AiRequest): Promise<Reply> {
  const { key, meta, source } = parsed<{ key: Key; meta: boolean; source: boolean }>(r);
  const s = await r.ext.getScript(key, source || !meta);
  return scriptGetReply(s, s.source ?? '', meta, source);
}

async function del(r: AiRequest, type: 'model' | 'script'): Promise<Reply> {
  const key = parsed<Key>(r);
  if (!(await r.ext.deleteValue(key, type))) fail(type === 'model' ? E.modelEmpty : E.scriptEmpty);
  return OK;
}

/** AI.INFO key [RESETSTAT]: the stored metadata with this node's statistics (zeros if it never ran it). */
async function runInfo(r: AiRequest): Promise<Reply> {
  const { key, reset } = parsed<{ key: Key | undefined; reset: boolean }>(r);
  if (key === undefined) return r.command.execute(r.ctx, { key, reset });
  const k = keyOf(r.args[0]!);
  const marker = (await r.ext.store.send(['HGET', r.args[0]!, MARKER], r.args[0]!).catch((e: unknown) => {
    if (RespaiError.isInstance(e) && e.message.startsWith('WRONGTYPE')) return null;
    throw e;
  })) as Field;
  const type = aiTypeOf(marker);
  if (type !== 'model' && type !== 'script') fail(E.runInfoMissing);
  const stored = type === 'model' ? await r.ext.getModel(k, false) : await r.ext.getScript(k, false);
  const cached = (type === 'model' ? r.ext.models : r.ext.scripts).peek(k);
  const stats = cached !== undefined && cached.digest === stored.digest ? cached.value.stats : undefined;
  if (reset) {
    stats?.reset();
    return OK;
  }
  return runInfoReply(k, type, 'meta' in stored ? stored.meta : stored, stats ?? new RunStats());
}

/** AI._MODELSCAN / AI._SCRIPTSCAN: `[key, tag]` of every model (script) on every master. */
async function scanAll(r: AiRequest, type: 'model' | 'script'): Promise<Reply> {
  const out: Reply[] = [];
  const masters = (await r.ext.store.masterClients()).length;
  for (let m = 0; m < masters; m++) {
    let cursor = '0';
    do {
      const { reply } = await r.ext.store.onMaster(m, ['SCAN', cursor, 'TYPE', 'hash', 'COUNT', '1000']);
      const [next, keys] = reply as [Buffer, Buffer[]];
      cursor = next.toString('latin1');
      const found = (await Promise.all(keys.map((k) => r.ext.store.send(['HMGET', k, MARKER, 'tag'], k).catch(() => [null, null])))) as Field[][];
      found.forEach(([marker, tag], i) => {
        if (aiTypeOf(marker) === type) out.push([keys[i]!, tag ?? Buffer.alloc(0)]);
      });
    } while (cursor !== '0');
  }
  return out;
}

/** Runs one AI command (not AI.CONFIG, which is local) over the external keyspace. */
export function runAi(r: AiRequest): Promise<Reply> {
  switch (r.command.name) {
    case 'ai.modelstore':
    case 'ai.modelset':
      return storeModel(r);
    case 'ai.scriptstore':
    case 'ai.scriptset':
      return storeScript(r);
    case 'ai.modelget':
      return modelGet(r);
    case 'ai.scriptget':
      return scriptGet(r);
    case 'ai.modeldel':
      return del(r, 'model');
    case 'ai.scriptdel':
      return del(r, 'script');
    case 'ai.info':
      return runInfo(r);
    case 'ai._modelscan':
      return scanAll(r, 'model');
    case 'ai._scriptscan':
      return scanAll(r, 'script');
    default: {
      // Tensors and runs: the command's own code over an overlay.
      const request = r.command.parse(r.args, r.parse);
      let plan = keyPlan(r.command.name, r.args);
      // AI.TENSORSET with bad arguments answers WRONGTYPE first when the key holds another type.
      if (r.command.name === 'ai.tensorset' && RespaiError.isInstance((request as { tensor: unknown }).tensor)) {
        plan = { ...plan, reads: new Map([[keyOf(r.args[0]!), 'tensor']]), writes: new Set() };
      }
      return overOverlay(r, plan, (ctx) => r.command.execute(ctx, request));
    }
  }
}
