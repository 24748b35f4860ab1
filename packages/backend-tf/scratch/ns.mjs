import { readFileSync, readdirSync } from 'node:fs';
const dir = 'node_modules/@tensorflow/tfjs-converter/dist/operations/op_list/';
for (const f of readdirSync(dir).filter(f => f.endsWith('.js'))) {
  const src = readFileSync(dir + f, 'utf8').replace(/\/\/# sourceMappingURL.*/, '').replace('export const json =', 'return');
  const json = new Function(src)();
  for (const op of json) for (const a of op.attrs ?? []) if (a.notSupported) console.log(f, op.tfOpName, a.tfName, JSON.stringify(a.defaultValue));
}
