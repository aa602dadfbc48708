/**
 * Help that helps: every command's --help lists its own arguments and options (not the general
 * text); `mats methods` lists every registered method with every knob of its schema, its default
 * and its meaning; `mats help config` every config key; throughput in a unit that fits.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { captureStream, randomModel, tempFolder, writeModelFile } from '@mats/merge/testing';
import { COMMANDS } from '../src/cli/commands.js';
import { runCli } from '../src/cli/run-cli.js';
import { configSchema } from '../src/config/schema.js';
import { inputSchema, knobDocs } from '../src/cli/describe-methods.js';
import { allMethods } from '../src/methods/registry.js';
import { formatRate } from '../src/util/format.js';
import { writeFile } from 'node:fs/promises';

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = captureStream();
  const stderr = captureStream();
  const code = await runCli(args, { stdout, stderr });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

describe('mats COMMAND --help', () => {
  const general = cli('--help');

  for (const command of COMMANDS) {
    it(`${command.name}: its usage, arguments and options, and not the general text`, async () => {
      const help = await cli(command.name, '--help');
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(new RegExp(`^usage: mats ${command.name}`));
      expect(help.stdout).not.toBe((await general).stdout);
      for (const a of command.args) expect(help.stdout).toContain(`  ${a.name}`);
      for (const o of command.options) expect(help.stdout).toContain(`--${o.name}`);
      // mats help methods lists the methods themselves (the "mats help methods").
      if (command.name !== 'methods') expect((await cli('help', command.name)).stdout).toBe(help.stdout);
    });
  }

  it('merge --help names the output argument, the dry run and the JSON log', async () => {
    const { stdout } = await cli('merge', '--help');
    expect(stdout).toMatch(/^usage: mats merge CONFIG \[OUTPUT\] \[options\]/);
    for (const o of ['--out DIR', '--dry-run', '--json-log FILE', '--quiet, -q', '--force']) expect(stdout).toContain(o);
  });

  it('lists every command in the general help, and suggests one for a typo', async () => {
    const { stdout } = await general;
    for (const c of COMMANDS) expect(stdout).toContain(`  ${c.name}`);
    const typo = await cli('mrege', 'x.yaml');
    expect(typo.code).toBe(1);
    expect(typo.stderr).toMatch(/^error: unknown command 'mrege'; did you mean 'merge'\?/);
    const topic = await cli('help', 'confg');
    expect(topic.code).toBe(1);
    expect(topic.stderr).toMatch(/did you mean 'config'\?/);
  });
});

describe('mats methods', () => {
  it('lists every registered method with every knob of its schema, its default and its meaning', async () => {
    const { code, stdout } = await cli('methods');
    expect(code).toBe(0);
    for (const method of allMethods()) {
      const block = stdout.split('\n\n').find((b) => b.startsWith(`${method.name}: `));
      expect(block, method.name).toBeDefined();
      const knobs = Object.keys(inputSchema(method.parameters).properties ?? {});
      for (const knob of knobs) expect(block).toMatch(new RegExp(`^  ${knob}  \\(`, 'm'));
      if (knobs.length === 0) expect(block).toContain('(no knobs)');
    }
    expect((await cli('help', 'methods')).stdout).toBe(stdout);
  });

  it('every knob of every method has a meaning, and per-model knobs exist in the schema', () => {
    for (const method of allMethods()) {
      const docs = knobDocs(method);
      for (const k of docs) expect(k.meaning, `${method.name}.${k.name}`).not.toBe('');
      for (const p of method.perModel ?? []) expect(docs.map((d) => d.name), `${method.name} perModel ${p}`).toContain(p);
    }
  });

  it('shows one method, defaults included, and refuses an unknown one', async () => {
    const { stdout } = await cli('methods', 'ties');
    expect(stdout).toMatch(/^ties: .*\(needs base\)$/m);
    expect(stdout).toMatch(/^ {2}density {2}\(number in \(0, 1\]; default 0\.2; per model\)$/m);
    expect(stdout).toMatch(/^ {2}trim {2}\(global \| per_tensor; default global\)$/m);
    const bad = await cli('methods', 'tie');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/unknown method 'tie'; did you mean 'ties'\?/);
  });
});

describe('mats help config', () => {
  it('lists every config key, the model entry\'s and output\'s too', async () => {
    const { stdout } = await cli('help', 'config');
    const root = inputSchema(configSchema) as { properties: Record<string, { properties?: Record<string, unknown>; items?: { properties?: Record<string, unknown> } }> };
    for (const [key, node] of Object.entries(root.properties)) {
      expect(stdout).toMatch(new RegExp(`^  ${key} `, 'm'));
      for (const sub of Object.keys(node.properties ?? {})) expect(stdout).toMatch(new RegExp(`^  ${key}\\.${sub} `, 'm'));
      for (const sub of Object.keys(node.items?.properties ?? {})) expect(stdout).toMatch(new RegExp(`^  ${key}\\[\\]\\.${sub} `, 'm'));
    }
  });
});

describe('throughput', () => {
  it('is printed in the unit that fits', () => {
    expect(formatRate(1.5e9, 1)).toBe('1.50 GB/s');
    expect(formatRate(3.2e6, 2)).toBe('1.60 MB/s');
    expect(formatRate(2048, 1)).toBe('2.05 KB/s');
    expect(formatRate(0, 1)).toBe('0 B/s');
    expect(formatRate(100, 0)).toBe('0 B/s');
  });

  it('a small merge does not say 0.00 GB/s', async () => {
    const dir = await tempFolder();
    await writeModelFile(join(dir, 'a.safetensors'), randomModel(1));
    await writeModelFile(join(dir, 'b.safetensors'), randomModel(2));
    await writeFile(join(dir, 'm.yaml'), 'method: average\nmodels: [{path: a.safetensors}, {path: b.safetensors}]\n');
    const { code, stdout } = await cli('merge', join(dir, 'm.yaml'), join(dir, 'out'), '--quiet');
    expect(code).toBe(0);
    expect(stdout).toMatch(/read at [\d.]+ (B|KB|MB|GB)\/s\)$/m);
    expect(stdout).not.toMatch(/0\.00 GB\/s/);
  });
});
