import { describe, expect, it } from 'vitest';
import { OPTION_NAMES, loadOptions } from './config.js';
import { usage } from './usage.js';

describe('--help', () => {
  const text = usage();

  it('lists every option of the table, each once, with an argument', () => {
    for (const name of OPTION_NAMES) expect(text.match(new RegExp(`^  --${name} \\S`, 'gm')), name).toHaveLength(1);
    expect(text.match(/^  --/gm)).toHaveLength(OPTION_NAMES.length);
  });

  it('shows the defaults as CONFIG GET formats them', () => {
    expect(text).toMatch(/^ {2}--port <n> +TCP port; 0 picks a free one \(default 6379\)$/m);
    expect(text).toMatch(/^ {2}--model-execution-timeout <ms> +ONNX, TF and TFLITE runs .* \(default 5000\)$/m);
    expect(text).toMatch(/^ {2}--proto-max-bulk-len <size> .*\(default 536870912\)$/m);
    expect(text).toMatch(/^ {2}--save .*\(default ""\)$/m);
  });

  it('every flag it names is one loadOptions takes', () => {
    for (const m of text.matchAll(/^ {2}--(\S+) (\S+)/gm)) {
      const [, name, arg] = m;
      const value = name === 'loadbackend' ? ['ONNX', '/x'] : arg!.startsWith('yes') ? ['yes'] : name === 'save' ? ['60 1'] : name === 'loglevel' ? ['debug'] : name === 'appendfsync' ? ['no'] : /^<(n|ms|MB|us)>$/.test(arg!) ? ['10'] : name === 'bind' ? ['::1'] : ['x'];
      if (name === 'proto-max-bulk-len' || name === 'model-chunk-size' || name === 'auto-aof-rewrite-min-size') value[0] = '2mb';
      expect(() => loadOptions([`--${name}`, ...value]), name).not.toThrow();
    }
  });
});
