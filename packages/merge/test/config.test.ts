/** Config parsing: schema, "did you mean", every problem at once, paths, sizes. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { parseByteSize } from '../src/config/schema.js';
import { ValidationError } from '../src/errors.js';
import { methodNames } from '../src/methods/registry.js';
import { closest, editDistance } from '../src/util/did-you-mean.js';

function problems(text: string): string[] {
  try {
    parseConfig(text, '/cfg/merge.yaml', '/cfg');
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    expect((e as Error).message).toMatch(/^\/cfg\/merge\.yaml (is invalid|is not valid YAML)/);
    return [...(e as ValidationError).problems];
  }
  throw new Error('expected the config to be rejected');
}

describe('config', () => {
  it('fills defaults and resolves paths against the config folder', () => {
    const c = parseConfig('method: ties\nbase: ../base\nmodels:\n  - path: a\n  - {path: /abs/b, weight: 2, stats: s.safetensors}\n', '/cfg/merge.yaml', '/cfg');
    expect(c.base).toBe('/base');
    expect(c.models).toEqual([
      { path: '/cfg/a', stats: undefined, weight: 1, parameters: {} },
      { path: '/abs/b', stats: '/cfg/s.safetensors', weight: 2, parameters: {} },
    ]);
    expect(c.output).toEqual({ path: undefined, dtype: 'same', shardSize: 5e9, tokenizerSource: undefined });
    expect([c.backend, c.precision, c.seed]).toEqual(['cpu', 'float32', 0]);
  });

  it('suggests the closest method, key and value, and reports them all at once', () => {
    const found = problems('method: task_arithmetc\nmodel:\n  - path: a\noutput: {dtype: bfloat61, shard_sise: 1GB}\nbackend: gpuu\n');
    expect(found).toEqual(
      expect.arrayContaining([
        `method: unknown method 'task_arithmetc'; did you mean 'task_arithmetic'? (methods: ${methodNames().join(', ')})`,
        expect.stringMatching(/^model: unknown key; did you mean 'models'\?/),
        expect.stringMatching(/^models: is required/),
        expect.stringMatching(/^output\.shard_sise: unknown key; did you mean 'shard_size'\?/),
        expect.stringMatching(/^output\.dtype: "bfloat61" is not one of .*; did you mean 'bfloat16'\?/),
        expect.stringMatching(/^backend: "gpuu" is not one of cpu, gpu; did you mean 'gpu'\?/),
      ]),
    );
    expect(found).toHaveLength(6);
  });

  it('rejects bad values with the key path', () => {
    expect(problems('method: average\nmodels: [{path: a, weight: -1}]\n')).toEqual([expect.stringMatching(/^models\[0\]\.weight: /)]);
    expect(problems('method: average\nmodels: [{path: a, weight: 0}]\n')).toEqual([expect.stringMatching(/^models: every model has weight 0/)]);
    expect(problems('method: average\nmodels: [{path: a}]\noutput: {shard_size: 12 parsecs}\n')).toEqual([expect.stringMatching(/^output\.shard_size: "12 parsecs" is not a size/)]);
    expect(problems('method: average\nmodels: []\n')).toEqual([expect.stringMatching(/^models: /)]);
  });

  it('rejects YAML that does not parse, and duplicate keys', () => {
    expect(problems('method: [\n')[0]).toMatch(/./);
    expect(problems('method: average\nmethod: ties\nmodels: [{path: a}]\n')[0]).toMatch(/unique|duplicate/i);
  });

  it('parses sizes the transformers way', () => {
    expect(parseByteSize('5GB')).toBe(5e9);
    expect(parseByteSize('500 MB')).toBe(5e8);
    expect(parseByteSize('2GiB')).toBe(2 ** 31);
    expect(parseByteSize(1000)).toBe(1000);
    expect(parseByteSize('1.5kb')).toBe(1500);
    expect(parseByteSize('0')).toBeUndefined();
    expect(parseByteSize('x')).toBeUndefined();
  });

  it('edit distance and closest candidate', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(closest('densty', ['density', 'lambda'])).toBe('density');
    expect(closest('zzzzzz', ['density', 'lambda'])).toBeUndefined();
  });
});

describe('config paths', () => {
  it('keeps absolute paths', () => {
    const c = parseConfig(`method: average\nmodels: [{path: ${join('/', 'x', 'y')}}]\n`, '/cfg/m.yaml', '/cfg');
    expect(c.models[0].path).toBe('/x/y');
  });
});
