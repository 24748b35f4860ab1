import { flushall } from './flushall.js';
import { defineCommand } from './types.js';

/** FLUSHALL under its other name: respai has one database. */
export const flushdb = defineCommand({ ...flushall, name: 'flushdb' });
