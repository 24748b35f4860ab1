import { del } from './del.js';
import { defineCommand } from './types.js';

/** DEL under its other name: freeing is the garbage collector's job either way. */
export const unlink = defineCommand({ ...del, name: 'unlink' });
