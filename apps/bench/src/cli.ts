#!/usr/bin/env node
import * as ab from './scenarios/ab.js';
import * as batching from './scenarios/batching.js';
import * as client from './scenarios/client.js';
import * as checkCost from './scenarios/check-cost.js';
import * as dag from './scenarios/dag.js';
import * as datatypes from './scenarios/datatypes.js';
import * as durability from './scenarios/durability.js';
import * as fuzzTorch from './scenarios/fuzz-torch.js';
import * as onnx from './scenarios/onnx.js';
import * as rdb from './scenarios/rdb.js';
import * as scaleOut from './scenarios/scale-out.js';
import * as tensors from './scenarios/tensors.js';
import * as tf from './scenarios/tf.js';
import * as tflite from './scenarios/tflite.js';
import * as torch from './scenarios/torch.js';
import { installCleanup, stopAll } from './servers.js';

const scenarios: Record<string, { usage: string; run: (argv: string[]) => Promise<number> }> = {
  tensors,
  onnx,
  torch,
  tflite,
  tf,
  dag,
  batching,
  durability,
  rdb,
  datatypes,
  ab,
  client,
  'fuzz-torch': fuzzTorch,
  'check-cost': checkCost,
  'scale-out': scaleOut,
};

const help = `usage: node apps/bench/dist/cli.js <scenario> [options]

Each scenario measures respai against its physical floor (a bare redis-server for the data path)
and writes bench-results/<scenario>-<timestamp>.{csv,svg}.

scenarios:
${Object.values(scenarios)
  .map((s) => `  ${s.usage.split('\n')[0]}`)
  .join('\n')}

\`<scenario> --help\` lists its options.`;

async function main(): Promise<number> {
  installCleanup();
  const [name, ...rest] = process.argv.slice(2);
  if (!name || name === '--help' || name === '-h') {
    console.log(help);
    return name ? 0 : 2;
  }
  const scenario = scenarios[name];
  if (!scenario) {
    console.error(`unknown scenario: ${name}\n\n${help}`);
    return 2;
  }
  return scenario.run(rest);
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  async (e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    await stopAll();
    process.exitCode = 1;
  },
);
