import protobuf from 'protobufjs';
import { readFileSync } from 'node:fs';
const root = new protobuf.Root();
root.resolvePath = (origin, target) => new URL('../proto/' + target, import.meta.url).pathname;
root.loadSync('tensorflow/core/framework/graph.proto');
root.resolveAll();
const GraphDef = root.lookupType('tensorflow.GraphDef');
const g = GraphDef.decode(readFileSync('/work/shared/models/graph.pb'));
console.log(JSON.stringify(GraphDef.toObject(g, {enums: String, longs: String, bytes: String}), null, 1).slice(0, 3000));
