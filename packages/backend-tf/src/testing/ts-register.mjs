// `node --import ./src/testing/ts-register.mjs x.ts` runs this package's TypeScript sources directly.
import { register } from 'node:module';

register('./ts-hooks.mjs', import.meta.url);
