/**
 * Issue 13, case 6: `parameters:` with nothing under it (YAML null, what commenting out the last
 * knob leaves) and `{}` are accepted for every optional mapping; a null anywhere reads as absent.
 * Case 8 (its config part): YAML aliases that expand without bound are the user's error, one
 * line naming the file, never "internal error".
 */
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/run-cli.js';
import { parseConfig } from '../src/config/load.js';
import { UserError } from '../src/errors.js';
import { randomModel, writeModelFile } from './fixtures.js';
import { captureStream, tempFolder } from './helpers.js';

const parse = (text: string) => parseConfig(text, '/c/merge.yaml', '/c');
const HEAD = 'method: ties\nbase: base\nmodels:\n  - path: a\n';

describe('null and {} for optional mappings', () => {
  it('parameters:, output:, aliases: with nothing under them take their defaults, as {} does', () => {
    const empty = parse(`${HEAD}parameters: {}\noutput: {}\naliases: {}\n`);
    for (const text of [
      `${HEAD}parameters:\n  # density: 0.3\noutput:\naliases:\n`,
      `${HEAD}parameters: null\noutput: ~\naliases: null\n`,
    ]) {
      const c = parse(text);
      expect(c.parameters).toEqual({});
      expect(c.output).toEqual(empty.output);
      expect(c.aliases).toEqual({});
    }
  });

  it('a null key inside a mapping is absent too: its default applies', () => {
    const c = parse(`${HEAD}  - path: b\n    weight:\n    stats:\noutput:\n  path: merged\n  dtype:\nprecision:\nseed:\n`);
    expect(c.models[1]).toEqual({ path: '/c/b', stats: undefined, weight: 1, parameters: {} });
    expect(c.output.dtype).toBe('same');
    expect(c.precision).toBe('float32');
    expect(c.seed).toBe(0);
  });

  it('a required key left null is reported as missing, not as a type error', () => {
    expect(() => parse('method:\nmodels:\n')).toThrow(/method: is required[\s\S]*models: is required/);
  });

  it('a method knob mapping left null (init_parameters:) merges, through the CLI', async () => {
    const dir = await tempFolder();
    await writeModelFile(join(dir, 'base.safetensors'), randomModel(0));
    await writeModelFile(join(dir, 'a.safetensors'), randomModel(1));
    await writeModelFile(join(dir, 'b.safetensors'), randomModel(2));
    await writeFile(
      join(dir, 'merge.yaml'),
      'method: mats\nbase: base.safetensors\nmodels:\n  - path: a.safetensors\n  - path: b.safetensors\nparameters:\n  subspace: identity\n  init: ties\n  init_parameters:\noutput:\n  path: out\n',
    );
    const stderr = captureStream();
    expect(await runCli(['merge', join(dir, 'merge.yaml'), '--quiet'], { stdout: captureStream(), stderr })).toBe(0);
    expect(stderr.text).toBe('');
    await writeFile(join(dir, 'ties.yaml'), 'method: ties\nbase: base.safetensors\nmodels:\n  - path: a.safetensors\n  - path: b.safetensors\nparameters:\n  # density: 0.5\n');
    expect(await runCli(['merge', join(dir, 'ties.yaml'), '--quiet', '--out', join(dir, 'out2')], { stdout: captureStream(), stderr })).toBe(0);
  });
});

describe('YAML aliases that expand without bound', () => {
  it('are the user error, naming the file', async () => {
    // Ten aliases of ten aliases of ...: 10^9 values once expanded (the "billion laughs").
    let text = 'a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n';
    for (let i = 1; i < 9; i++) text += `a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]\n`;
    text += 'method: average\nmodels: [{path: a}]\n';
    expect(() => parse(text)).toThrow(UserError);
    expect(() => parse(text)).toThrow(/^\/c\/merge\.yaml: its YAML aliases \(\*name\) expand into too many values/);
    const dir = await tempFolder();
    await writeFile(join(dir, 'bomb.yaml'), text);
    const stderr = captureStream();
    expect(await runCli(['merge', join(dir, 'bomb.yaml')], { stdout: captureStream(), stderr })).toBe(1);
    expect(stderr.text.trimEnd().split('\n')).toHaveLength(1);
    expect(stderr.text).toMatch(/^error: .*bomb\.yaml: its YAML aliases/);
  });

  it('an alias to an anchor that does not exist is a user error too', () => {
    expect(() => parse('<<: *a\nmethod: average\n')).toThrow(UserError);
  });
});
