import { E, fail } from '../errors.js';
import type { Device } from './spi.js';

/**
 * `CPU`, `GPU`, `CPU:n`, `GPU:n`, case-insensitive, n of at most 5 digits (the original refused a
 * device string of 10 characters or more); anything else is `ERR Invalid DEVICE`.
 */
export function parseDevice(arg: string): Device {
  const m = /^(cpu|gpu)(?::([0-9]{1,5}))?$/i.exec(arg);
  if (!m) fail(E.invalidDevice);
  const type = m[1]!.toUpperCase() as Device['type'];
  const index = m[2] === undefined ? undefined : Number(m[2]);
  const name = index === undefined ? type : `${type}:${index}`;
  return name === arg ? { type, index, name } : { type, index, name, written: arg };
}

/** The device as the client wrote it (what MODELGET, SCRIPTGET and AI.INFO reply). */
export function deviceText(d: Device): string {
  return d.written ?? d.name;
}
