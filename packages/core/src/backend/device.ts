import { E, fail } from '../errors.js';
import type { Device } from './spi.js';

/** `CPU`, `GPU`, `CPU:n`, `GPU:n`, case-insensitive; anything else is `ERR Invalid DEVICE`. */
export function parseDevice(arg: string): Device {
  const m = /^(cpu|gpu)(?::(0|[1-9][0-9]{0,8}))?$/i.exec(arg);
  if (!m) fail(E.invalidDevice);
  const type = m[1]!.toUpperCase() as Device['type'];
  const index = m[2] === undefined ? undefined : Number(m[2]);
  return { type, index, name: index === undefined ? type : `${type}:${index}` };
}
