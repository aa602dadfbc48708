/**
 * The shared output of a distributed merge keeps the single-process guarantees (nothing that
 * looks complete before `mats gather`, --force never replaces what is not a checkpoint, a merge
 * being written is never disturbed) and `mats gather` refuses anything missing, stale or damaged,
 * naming the shard and the command that redoes it, and writes nothing then.
 */
import { mkdir, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { recordPath, SHARDS_FOLDER } from '../src/checkpoint/completion-record.js';
import { gatherShards } from '../src/checkpoint/gather.js';
import { INDEX_FILE } from '../src/checkpoint/shard-index.js';
import { OWNER_FILE } from '../src/checkpoint/temporary-folders.js';
import { loadConfig } from '../src/config/load.js';
import { UserError } from '../src/errors.js';
import { planMerge } from '../src/pipeline/plan.js';
import { runMerge } from '../src/pipeline/run.js';
import { planShardMerge, runShardMerge, type ShardSummary } from '../src/pipeline/shard-merge.js';
import { configText, expectSameTensors, writeInputs } from './distributed-fixture.js';
import { tempFolder } from './helpers.js';

let dir: string;
let out: string;
let config: string;

async function shard(index: number, count: number, options: { force?: boolean; configFile?: string; log?: string[] } = {}): Promise<ShardSummary> {
  const sp = await planShardMerge(await loadConfig(options.configFile ?? config), { index, count }, { out, force: options.force });
  try {
    return await runShardMerge(sp, { onEvent: (e) => e.type === 'log' && options.log?.push(e.message) });
  } finally {
    await sp.plan.close();
  }
}

async function single(target: string, force = false): Promise<void> {
  const plan = await planMerge(await loadConfig(config), { out: target, force });
  try {
    await runMerge(plan);
  } finally {
    await plan.close();
  }
}

/** The message of the UserError promise p rejects with. */
async function refusal(p: Promise<unknown>): Promise<string> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(UserError);
  return (e as Error).message;
}

const listing = async (folder: string) => (await readdir(folder)).sort();

/** An owner record as a merge writes it (checkpoint/temporary-folders.ts). */
const owner = (pid: number) => JSON.stringify({ pid, host: hostname(), started: new Date().toISOString() });

beforeEach(async () => {
  dir = await tempFolder();
  out = join(dir, 'out');
  config = join(dir, 'merge.yaml');
  await writeInputs(dir);
  await writeFile(config, configText('task_arithmetic', { lambda: 0.5 }, 'single'));
});

describe('mats gather', () => {
  it('refuses a missing shard, naming it and the command that runs it; writes nothing', async () => {
    await shard(0, 3);
    await shard(2, 3);
    const message = await refusal(gatherShards(out));
    expect(message).toContain('shard 1/3: missing (no completion record); run mats merge CONFIG --shard 1/3');
    expect(await listing(out)).not.toContain(INDEX_FILE);
    await shard(1, 3);
    const summary = await gatherShards(out);
    expect(summary).toMatchObject({ shards: 3, tensors: 7 });
    await single(join(dir, 'single'));
    await expectSameTensors(out, join(dir, 'single'));
  });

  it('refuses a file cut short (its size), and with --verify one whose bytes changed (its SHA-256)', async () => {
    for (let i = 0; i < 2; i++) await shard(i, 2);
    const record = JSON.parse(await readFile(recordPath(out, 1, 2), 'utf8')) as { files: { name: string; bytes: number }[] };
    const file = join(out, record.files[0].name);
    const bytes = await readFile(file);
    bytes[bytes.length - 1] ^= 0x01; // the last byte of tensor data: same size, same header
    await writeFile(file, bytes);
    await gatherShards(out); // sizes and headers agree: without --verify the change goes unseen
    expect(await refusal(gatherShards(out, { verify: true }))).toMatch(/shard 1\/2: model-\d+-of-\d+\.safetensors has other bytes than its shard wrote \(SHA-256 differs\); rerun it: mats merge CONFIG --shard 1\/2/);
    await truncate(file, bytes.length - 4);
    expect(await refusal(gatherShards(out))).toMatch(/shard 1\/2: model-\d+-of-\d+\.safetensors has \d+ bytes, the record says \d+/);
  });

  it('refuses a record that is not one, naming the file; a shard meanwhile only warns about it', async () => {
    await shard(0, 2);
    await writeFile(recordPath(out, 1, 2), '{"format": "something else"');
    expect(await refusal(gatherShards(out))).toContain(`${recordPath(out, 1, 2)}: not a completion record`);
    const log: string[] = [];
    await shard(0, 2, { force: true, log });
    expect(log.some((l) => l.startsWith('warning:') && l.includes(recordPath(out, 1, 2)))).toBe(true);
    await shard(1, 2);
    await gatherShards(out);
  });

  it('removes what earlier merges left: unnamed model files, their records, staging folders', async () => {
    for (let i = 0; i < 2; i++) await shard(i, 2);
    await writeFile(join(out, 'model-00009-of-00009.safetensors'), 'left over');
    await mkdir(join(out, SHARDS_FOLDER, 'shard-00001-of-00002'));
    const log: string[] = [];
    const summary = await gatherShards(out, { log: (m) => log.push(m) });
    expect(summary.removed).toEqual([join(out, 'model-00009-of-00009.safetensors'), join(out, SHARDS_FOLDER, 'shard-00001-of-00002')]);
    expect(log.join('\n')).toContain('not part of this merge');
    expect(await listing(out)).toContain(INDEX_FILE);
  });
});

describe('shards writing into one output', () => {
  it('skip a shard already complete for the same merge, redo it when a file is damaged or with --force', async () => {
    await shard(0, 2);
    expect((await shard(0, 2)).skipped).toBe(true);
    const record = JSON.parse(await readFile(recordPath(out, 0, 2), 'utf8')) as { files: { name: string }[] };
    await rm(join(out, record.files[0].name));
    const log: string[] = [];
    expect((await shard(0, 2, { log })).skipped).toBe(false);
    expect(log.join('\n')).toMatch(/was completed, but model-\d+-of-\d+\.safetensors is missing: merging it again/);
    expect((await shard(0, 2, { force: true })).skipped).toBe(false);
  });

  it('refuse files that are not a checkpoint, even with --force', async () => {
    await mkdir(out);
    await writeFile(join(out, 'notes.txt'), 'mine');
    for (const force of [false, true]) expect(await refusal(shard(0, 2, { force }))).toContain('holds files that are not a checkpoint (notes.txt); refusing to write shards into it even with --force');
    expect(await listing(out)).toEqual(['notes.txt']);
  });

  it('refuse a finished single-process checkpoint without --force; with it, the output is incomplete until gather', async () => {
    await single(out);
    expect(await refusal(shard(0, 2))).toContain('holds a checkpoint that is not a distributed merge in progress; pass --force');
    await shard(0, 2, { force: true });
    // The single-process index and files no longer make the folder look complete.
    expect(await listing(out)).not.toContain(INDEX_FILE);
    await shard(1, 2, { force: true });
    await gatherShards(out);
    await single(join(dir, 'single'));
    await expectSameTensors(out, join(dir, 'single'));
  });

  it('refuse a shard another process is running, remove one a killed process left', async () => {
    const running = join(out, SHARDS_FOLDER, '.shard-00000-of-00002.partial-00000000');
    await mkdir(running, { recursive: true });
    await writeFile(join(running, OWNER_FILE), owner(process.pid));
    expect(await refusal(shard(0, 2))).toMatch(/shard 0\/2 of .* is being merged by another process/);
    // The other shard is not disturbed by it.
    await shard(1, 2);
    await writeFile(join(running, OWNER_FILE), owner(2 ** 22 + 12345)); // above Linux's pid_max: no such process
    const log: string[] = [];
    await shard(0, 2, { log });
    expect(log.join('\n')).toContain(`removed temporary folder ${running}`);
    expect(await listing(join(out, SHARDS_FOLDER))).toEqual(['shard-00000-of-00002.json', 'shard-00001-of-00002.json']);
  });

  it('a single-process merge refuses while a shard writes the output, and --force replaces a gathered one', async () => {
    for (let i = 0; i < 2; i++) await shard(i, 2);
    await gatherShards(out);
    const running = join(out, SHARDS_FOLDER, '.shard-00000-of-00002.partial-00000000');
    await mkdir(running);
    await writeFile(join(running, OWNER_FILE), owner(process.pid));
    expect(await refusal(single(out, true))).toMatch(/another merge is writing it: .*\.shard-00000-of-00002\.partial-00000000/);
    await rm(running, { recursive: true });
    await single(out, true);
    expect(await listing(out)).not.toContain(SHARDS_FOLDER);
  });
});
