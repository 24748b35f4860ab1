import { ListValue } from '../../keyspace/list.js';
import type { StoredValue } from '../format.js';
import type { RdbValue } from './values.js';

/**
 * An RDB value as the keyspace holds it (models and scripts still as the requests that re-create
 * them), or undefined for the types respai does not hold (sets, sorted sets, streams, other
 * modules' values). Empty lists and hashes, which Redis skips, are undefined too.
 */
export function rdbToStored(v: RdbValue): StoredValue | undefined {
  switch (v.kind) {
    case 'string':
    case 'tensor':
    case 'model':
    case 'script':
      return { type: v.kind, value: v.value } as StoredValue;
    case 'list':
      return v.value.length === 0 ? undefined : { type: 'list', value: new ListValue(v.value) };
    case 'hash':
      return v.value.length === 0 ? undefined : { type: 'hash', value: new Map(v.value.map(([f, x]) => [f.toString('latin1'), x])) };
    default:
      return undefined;
  }
}
