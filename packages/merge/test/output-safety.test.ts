/**
 * Issue 13, case 10: an output that is an input (a model, a folder holding a model or a
 * statistics file, the config) is refused with or without --force, naming the input, and the
 * input is left as it was. Case 9 (the states a temporary folder can be in besides the SIGKILL
 * test of test/merge-interrupts.e2e.test.ts): a folder whose merge runs is refused, a folder
 * without an owner record is named with the command that removes it, a folder whose pid was
 * reused or whose machine rebooted is removed. Through the CLI, in process.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/run-cli.js';
import { randomModel, writeModelFile } from './fixtures.js';
import { captureStream, tempFolder } from './helpers.js';

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = captureStream();
  const stderr = captureStream();
  const code = await runCli(args, { stdout, stderr });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** base/ (a folder holding model.safetensors), a.safetensors, stats/a.stats.safetensors, the config in conf/. */
async function setup(): Promise<string> {
  const dir = await tempFolder();
  await mkdir(join(dir, 'base'));
  await writeModelFile(join(dir, 'base', 'model.safetensors'), randomModel(0));
  await writeModelFile(join(dir, 'a.safetensors'), randomModel(1));
  await mkdir(join(dir, 'stats'));
  await writeModelFile(join(dir, 'stats', 'a.stats.safetensors'), { 'layers.0.bias::fisher': { dtype: 'F32', shape: [6], data: new Float32Array(6).fill(1) } });
  await mkdir(join(dir, 'conf'));
  await writeFile(join(dir, 'conf', 'merge.yaml'), 'method: task_arithmetic\nbase: ../base\nmodels:\n  - {path: ../a.safetensors, stats: ../stats/a.stats.safetensors}\n');
  return dir;
}

describe('--force never replaces an input (case 10)', () => {
  // output, the input's role and path, the file whose bytes must not change
  for (const [out, role, path, file, verb] of [
    ['base', 'base', 'base', 'base/model.safetensors', 'is'],
    ['a.safetensors', 'models[0]', 'a.safetensors', 'a.safetensors', 'is'],
    ['stats', 'models[0].stats', 'stats/a.stats.safetensors', 'stats/a.stats.safetensors', 'holds'],
    ['conf', 'the config', 'conf/merge.yaml', 'conf/merge.yaml', 'holds'],
  ] as const) {
    it(`an output that ${verb} ${role} is refused, with or without --force, and the input stays`, async () => {
      const dir = await setup();
      const before = await readFile(join(dir, file));
      for (const force of [['--force'], []]) {
        const r = await cli(['merge', join(dir, 'conf', 'merge.yaml'), '--out', join(dir, out), '--quiet', ...force]);
        expect(r.code).toBe(1);
        expect(r.stderr).toContain(`output ${join(dir, out)} ${verb} ${role} (${join(dir, path)}); refusing to ${verb === 'is' ? 'write over an input' : 'replace it'}, even with --force`);
        expect(r.stderr).not.toContain('pass --force');
      }
      expect(Buffer.compare(await readFile(join(dir, file)), before)).toBe(0);
    });
  }

  it('sees through a symbolic link to an input', async () => {
    const dir = await setup();
    await symlink(join(dir, 'base'), join(dir, 'link'));
    const r = await cli(['merge', join(dir, 'conf', 'merge.yaml'), '--out', join(dir, 'link'), '--force', '--quiet']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`output ${join(dir, 'link')} is base (${join(dir, 'base')})`);
  });

  it('still replaces a previous output with --force', async () => {
    const dir = await setup();
    expect((await cli(['merge', join(dir, 'conf', 'merge.yaml'), '--out', join(dir, 'merged'), '--quiet'])).code).toBe(0);
    expect((await cli(['merge', join(dir, 'conf', 'merge.yaml'), '--out', join(dir, 'merged'), '--quiet', '--force'])).code).toBe(0);
  });
});

/** The owner record's name in a temporary folder (README: stale temporary folders). */
const OWNER_FILE = '.mats-merge-owner.json';

/** A temporary folder of output `merged` in dir, with this owner record (or none). */
async function temporaryFolder(dir: string, owner?: Record<string, unknown>): Promise<string> {
  const folder = join(dir, '.merged.partial-0badf00d');
  await mkdir(folder);
  await writeFile(join(folder, 'model.safetensors'), new Uint8Array(1000));
  if (owner !== undefined) await writeFile(join(folder, OWNER_FILE), JSON.stringify(owner));
  return folder;
}

/** Field 22 of /proc/PID/stat: the process's start time, as the owner record holds it. */
const startTicks = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
};
const bootId = () => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
const onLinux = process.platform === 'linux';

const sleeper = onLinux ? spawn('sleep', ['300']) : undefined;
afterAll(() => sleeper?.kill());

describe('temporary folders of earlier merges (case 9)', () => {
  it.skipIf(!onLinux)('a folder whose merge still runs: the merge refuses to start, naming it', async () => {
    const dir = await setup();
    const pid = sleeper!.pid!;
    const folder = await temporaryFolder(dir, { pid, host: hostname(), bootId: bootId(), startTicks: startTicks(pid), started: '2026-01-01T00:00:00.000Z' });
    const r = await cli(['merge', join(dir, 'conf', 'merge.yaml'), '--out', join(dir, 'merged'), '--quiet']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`another merge is writing it: ${folder} (its merge (pid ${pid} on ${hostname()}, started 2026-01-01T00:00:00.000Z) is still running)`);
    expect(await readdir(folder)).toContain('model.safetensors');
  });

  it.skipIf(!onLinux)('a folder whose pid now belongs to another process, or from before a reboot, is removed', async () => {
    for (const owner of [
      { pid: sleeper!.pid!, host: hostname(), bootId: bootId(), startTicks: '1', started: 'then' },
      { pid: sleeper!.pid!, host: hostname(), bootId: 'another-boot', startTicks: startTicks(sleeper!.pid!), started: 'then' },
    ]) {
      const dir = await setup();
      const folder = await temporaryFolder(dir, owner);
      const dry = await cli(['merge', join(dir, 'conf', 'merge.yaml'), '--out', join(dir, 'merged'), '--dry-run']);
      expect(dry.stdout).toContain(`temporary folder ${folder} (1.`); // KB: the 1000-byte file and the record
      expect(dry.stdout).toContain(`KB) left by an earlier merge: its merge (pid ${owner.pid} on ${hostname()}, started then) ${owner.bootId === 'another-boot' ? 'ran before the last reboot' : 'is no longer running (the pid now belongs to another process)'}; mats merge removes it before writing`);
      const r = await cli(['merge', join(dir, 'conf', 'merge.yaml'), '--out', join(dir, 'merged'), '--quiet']);
      expect(r.code).toBe(0);
      expect((await readdir(dir)).filter((f) => f.startsWith('.merged'))).toEqual([]);
    }
  });

  it('a folder without an owner record, or from another host, is named with the command to remove it, and kept', async () => {
    for (const owner of [undefined, { pid: 1, host: 'elsewhere', started: 'then' }]) {
      const dir = await setup();
      const folder = await temporaryFolder(dir, owner);
      const validate = await cli(['validate', join(dir, 'conf', 'merge.yaml'), '--out', join(dir, 'merged')]);
      expect(validate.stdout).toMatch(new RegExp(`warning: temporary folder ${folder} \\([\\d.]+ K?B\\) left by an earlier merge: ${owner === undefined ? 'it has no owner record' : 'its merge \\(pid 1 on elsewhere, started then\\) ran on another host'}`));
      expect(validate.stdout).toContain(`if no merge is writing it, remove it: rm -r '${folder}'`);
      const r = await cli(['merge', join(dir, 'conf', 'merge.yaml'), '--out', join(dir, 'merged')]);
      expect(r.code).toBe(0);
      expect(r.stderr).toContain(`warning: temporary folder ${folder}`);
      expect(await readdir(folder)).toContain('model.safetensors');
    }
  });
});
