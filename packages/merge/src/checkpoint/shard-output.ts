/**
 * The output folder of a distributed merge, shared by N shards that write into it at once
 * (`mats merge CONFIG --shard I/N`), each touching only its own files:
 *
 *   OUTPUT/model-0000k-of-0000K.safetensors    each written by one shard (pipeline/shard-plan.ts)
 *   OUTPUT/model.safetensors.index.json        written by `mats gather` once every shard is done
 *   OUTPUT/config.json, tokenizer files ...    from a Hugging Face folder: written by shard 0
 *   OUTPUT/.mats-shards/shard-0000I-of-0000N.json   shard I's completion record (completion-record.ts)
 *   OUTPUT/.mats-shards/.shard-0000I-of-0000N.partial-XXXXXXXX/   shard I at work
 *
 * Shard I writes its files as a checkpoint of their own with the single-process machinery
 * (CheckpointOutput: a hidden temporary folder with an owner record, renamed into place whole, so
 * a killed shard leaves a folder the next run of that shard judges and removes), then renames
 * each file into OUTPUT (one atomic rename per file, on the same file system) and writes its
 * completion record last, through a temporary name as well. Until the record is there, the shard
 * has not happened; until gather writes the index, the folder is not a loadable checkpoint. A
 * shard that is about to write removes the index first, so an index always means "checked by
 * gather since the last write".
 *
 * Before writing, a shard reads the folder: it refuses files that are not a checkpoint (even with
 * --force), a finished single-process checkpoint or shards of another merge (config or inputs
 * differ) without --force, and another process running the same shard; it skips the work when
 * its own record for the same merge is there and its files have the recorded sizes (--force
 * redoes it). A single-process merge into the same output refuses while a shard runs (plan.ts).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import type { OutputFolder } from '../io/files.js';
import { nodeInputFiles } from '../io/node-io.js';
import type { FloatArray } from '../safetensors/decode.js';
import { fileStep } from '../util/file-errors.js';
import { listSome } from '../util/format.js';
import { replaceFile } from '../util/replace-file.js';
import { RECORD_FORMAT, recordPath, recordText, readRecords, SHARDS_FOLDER, shardStem, type CompletionRecord, type RecordedCompanion, type RecordedFile, type RecordOnDisk } from './completion-record.js';
import { isCompanionFile, writeCompanionFiles, type CompanionFile } from './hf-folder.js';
import { CheckpointOutput, type ShardPlan } from './output.js';
import { INDEX_FILE, SINGLE_FILE } from './shard-index.js';
import { describeTemporaryFolder, findTemporaryFoldersIn, removeIfStale, temporaryPrefix } from './temporary-folders.js';

// Here since the merge's output target surveys them too (io/node-output-target.ts).
export { findShardTemporaryFolders } from './temporary-folders.js';

/** Where shard I of N stages its files as a checkpoint of their own before they are renamed into the output. */
function stagingFolder(target: string, shard: number, shards: number): string {
  return join(target, SHARDS_FOLDER, shardStem(shard, shards));
}

/** A file name a finished checkpoint may hold (what --force may replace). */
const isCheckpointFile = (name: string) => name.endsWith('.safetensors') || name === INDEX_FILE;

export interface ShardIdentity {
  /** The merge's hash (pipeline/merge-fingerprint.ts). */
  readonly merge: string;
  readonly shard: number;
  readonly shards: number;
}

/** SHA-256 hex of a file, streamed. */
export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 22 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Whether every recorded file exists with its recorded size (cheap; gather --verify also checks the hashes). */
export async function filesHaveRecordedSizes(target: string, files: readonly { readonly name: string; readonly bytes: number }[]): Promise<string | undefined> {
  for (const f of files) {
    const size = await stat(join(target, f.name)).then((s) => s.size, () => undefined);
    if (size === undefined) return `${f.name} is missing`;
    if (size !== f.bytes) return `${f.name} has ${size} bytes, the record says ${f.bytes}`;
  }
  return undefined;
}

export type SharedOutputDecision = { readonly action: 'write' } | { readonly action: 'skip'; readonly record: RecordOnDisk };

/**
 * Reads the shared output folder before shard I writes (the rules above); makes it ready to
 * write into, or says the shard is already done. log: lines for the user.
 */
export async function prepareSharedOutput(target: string, id: ShardIdentity, force: boolean, log: (message: string) => void): Promise<SharedOutputDecision> {
  const entries = await readdir(target).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    if (e.code === 'ENOTDIR') throw new UserError(`output ${target} exists and is not a folder; refusing to write shards into it`);
    throw e;
  });
  const { records, unreadable } = entries?.includes(SHARDS_FOLDER) ? await readRecords(target) : { records: [], unreadable: [] };
  for (const u of unreadable) if (u.path !== recordPath(target, id.shard, id.shards)) log(`warning: ${u.problem}`);
  if (entries !== undefined) {
    const foreign = entries.filter((f) => !isCheckpointFile(f) && f !== SHARDS_FOLDER && !isCompanionFile(f));
    if (foreign.length > 0) throw new UserError(`output ${target} holds files that are not a checkpoint (${listSome(foreign, 3)}); refusing to write shards into it even with --force`);
    if (!entries.includes(SHARDS_FOLDER) && entries.length > 0 && !force) {
      throw new UserError(`output ${target} holds a checkpoint that is not a distributed merge in progress; pass --force to replace it (each shard replaces its own files, mats gather removes the rest)`);
    }
    const others = records.filter(({ record: r }) => r.merge !== id.merge || r.shards !== id.shards);
    if (others.length > 0 && !force) {
      const which = others.map(({ record: r }) => `shard ${r.shard}/${r.shards} of merge ${r.merge.slice(0, 12)}`);
      throw new UserError(`output ${target} holds shards of another merge (the config or the inputs differ: ${listSome(which, 3)}; this is merge ${id.merge.slice(0, 12)}); pass --force to replace them (each shard replaces its own files, mats gather removes the rest)`);
    }
    const mine = records.find(({ record: r }) => r.shard === id.shard && r.shards === id.shards && r.merge === id.merge);
    if (mine !== undefined && !force) {
      const damage = await filesHaveRecordedSizes(target, [...mine.record.files, ...mine.record.companions]);
      if (damage === undefined) return { action: 'skip', record: mine };
      log(`shard ${id.shard}/${id.shards} was completed, but ${damage}: merging it again`);
    }
  }
  // Another process on this host running the same shard is refused; one that was killed is cleaned up.
  const folders = await findTemporaryFoldersIn(join(target, SHARDS_FOLDER), temporaryPrefix(stagingFolder(target, id.shard, id.shards)));
  for (const folder of folders) {
    if (folder.state === 'running') throw new UserError(`shard ${id.shard}/${id.shards} of ${target} is being merged by another process: ${folder.path} (${folder.reason}); wait for it to finish, or stop it`);
    if (folder.state === 'stale' && (await removeIfStale(folder))) log(`removed ${describeTemporaryFolder(folder).replace(/; mats merge removes it.*$/, '')}`);
    else log(describeTemporaryFolder(folder));
  }
  await fileStep(join(target, SHARDS_FOLDER), 'create the folder', () => mkdir(join(target, SHARDS_FOLDER), { recursive: true }));
  // From here on the output is incomplete: no index, no record of this shard, no single-file checkpoint.
  for (const name of [INDEX_FILE, SINGLE_FILE]) {
    if (entries?.includes(name)) {
      await fileStep(join(target, name), 'remove', () => rm(join(target, name), { force: true }));
      log(`removed ${join(target, name)}: the output is incomplete until mats gather ${target}`);
    }
  }
  await fileStep(recordPath(target, id.shard, id.shards), 'remove', () => rm(recordPath(target, id.shard, id.shards), { force: true }));
  return { action: 'write' };
}

/** What the record says besides the files, known before the shard starts. */
export type RecordFields = Omit<CompletionRecord, 'format' | 'files' | 'companions' | 'finished' | 'seconds' | 'host' | 'pid' | 'started' | 'shard' | 'shards' | 'merge'>;

/**
 * Shard I's output: its files (global names, pipeline/shard-plan.ts) staged as a checkpoint of
 * their own, then renamed into target, then the completion record. The same interface as
 * CheckpointOutput, so runMerge writes through it unchanged.
 */
export class ShardOutput {
  private readonly started = new Date();

  private constructor(
    private readonly inner: CheckpointOutput,
    readonly target: string,
    private readonly id: ShardIdentity,
    private readonly files: readonly ShardPlan[],
    private readonly companions: readonly CompanionFile[],
    private readonly fields: RecordFields,
  ) {}

  /** The folder runMerge reports (the supervisor removes it when a signal stops the shard). */
  get tempFolder(): string | undefined {
    return this.inner.tempFolder;
  }

  /** Where the staged files are written until commit. */
  get folder(): OutputFolder {
    return this.inner.folder;
  }

  /** companions: the Hugging Face folder's files this shard writes beside its tensors (shard 0: all, others: none). */
  static async create(target: string, id: ShardIdentity, files: readonly ShardPlan[], companions: readonly CompanionFile[], metadata: Readonly<Record<string, string>>, fields: RecordFields): Promise<ShardOutput> {
    // force: a staging folder a killed run left after its rename is replaced.
    const inner = await CheckpointOutput.create(stagingFolder(target, id.shard, id.shards), files, metadata, true);
    return new ShardOutput(inner, target, id, files, companions, fields);
  }

  writeFloats(name: string, values: FloatArray, offset = 0): Promise<void> {
    return this.inner.writeFloats(name, values, offset);
  }

  writeBytes(name: string, bytes: Uint8Array): Promise<void> {
    return this.inner.writeBytes(name, bytes);
  }

  /** Finishes the staged checkpoint, renames its files into target, writes the completion record. */
  async commit(): Promise<void> {
    // The companion files go in with the tensors, so the staged checkpoint holds them when it is renamed into staging.
    await writeCompanionFiles(this.inner.folder, this.companions, nodeInputFiles);
    await this.inner.commit();
    const staging = stagingFolder(this.target, this.id.shard, this.id.shards);
    const sizeAndHash = async (name: string) => {
      const from = join(staging, name);
      return { bytes: (await fileStep(from, 'read', () => stat(from))).size, sha256: await fileStep(from, 'read', () => sha256OfFile(from)) };
    };
    const recorded: RecordedFile[] = [];
    for (const f of this.files) recorded.push({ name: f.file, ...(await sizeAndHash(f.file)), tensorBytes: f.bytes, tensors: f.tensors.map((t) => t.name) });
    const companions: RecordedCompanion[] = [];
    for (const c of this.companions) companions.push({ name: c.name, ...(await sizeAndHash(c.name)) });
    for (const name of [...this.files.map((f) => f.file), ...this.companions.map((c) => c.name)]) {
      await fileStep(join(this.target, name), 'rename the finished shard file to', () => rename(join(staging, name), join(this.target, name)));
    }
    const finished = new Date();
    const record: CompletionRecord = {
      format: RECORD_FORMAT,
      merge: this.id.merge,
      shard: this.id.shard,
      shards: this.id.shards,
      ...this.fields,
      files: recorded,
      companions,
      host: hostname(),
      pid: process.pid,
      started: this.started.toISOString(),
      finished: finished.toISOString(),
      seconds: (finished.getTime() - this.started.getTime()) / 1000,
    };
    const final = recordPath(this.target, this.id.shard, this.id.shards);
    await replaceFile(final, (temporary) => writeFile(temporary, recordText(record)), join(staging, 'record.json'));
    await rm(staging, { recursive: true, force: true });
  }

  /** Removes what this shard staged (files already renamed into target stay: without a record they are nobody's). */
  async abort(): Promise<void> {
    await this.inner.abort();
    await rm(stagingFolder(this.target, this.id.shard, this.id.shards), { recursive: true, force: true });
  }
}
