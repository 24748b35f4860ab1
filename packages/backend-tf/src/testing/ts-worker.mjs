// The TF worker run from TypeScript sources (under vitest): compile on the fly, then start it.
import './ts-register.mjs';

await import('../worker.ts');
