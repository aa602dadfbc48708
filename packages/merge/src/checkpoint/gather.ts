/**
 * `mats gather OUTPUT`: the last step of a distributed merge. Checks that every shard of one
 * merge completed (their records, completion-record.ts, share the config + inputs hash and the
 * shard count, and cover shards 0..N-1), that every file a record names is there with its size
 * and its tensors, and every Hugging Face folder file shard 0 wrote (config.json, tokenizer
 * files) with its size (with --verify also every SHA-256), then writes model.safetensors.index.json
 * (through a temporary name) and removes what an earlier merge into the same folder left: files
 * no record of this merge names, records of other merges, staging folders of killed shards.
 *
 * The merge being gathered is the one of the newest record (a shard rerun with a new config
 * makes the others stale). Anything missing, stale or damaged is refused, naming each shard and
 * the command that redoes it; nothing is written then.
 */
import { randomBytes } from 'node:crypto';
import { readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError, ValidationError } from '../errors.js';
import { SafetensorsFile } from '../safetensors/reader.js';
import { fileStep } from '../util/file-errors.js';
import { replaceFile } from '../util/replace-file.js';
import { formatBytes, listSome } from '../util/format.js';
import { readRecords, SHARDS_FOLDER, type CompletionRecord, type RecordOnDisk } from './completion-record.js';
import { isCompanionFile } from './hf-folder.js';
import { filesHaveRecordedSizes, findShardTemporaryFolders, sha256OfFile } from './shard-output.js';
import { INDEX_FILE, shardIndexText } from './shard-index.js';
import { describeTemporaryFolder, removeIfStale } from './temporary-folders.js';

export interface GatherOptions {
  /** Also compare every file's SHA-256 with its record (reads the whole output once). */
  readonly verify?: boolean;
  /** Lines for the user (what was removed, warnings). */
  readonly log?: (message: string) => void;
}

export interface GatherSummary {
  readonly output: string;
  readonly merge: string;
  readonly shards: number;
  readonly files: number;
  /** The Hugging Face folder's files beside the tensors (config.json, tokenizer files). */
  readonly companions: readonly string[];
  readonly tensors: number;
  /** Bytes of tensor data (the index's total_size). */
  readonly totalSize: number;
  /** Whether the hashes were checked (--verify). */
  readonly verified: boolean;
  /** Files and folders removed as leftovers of earlier merges. */
  readonly removed: readonly string[];
}

const short = (hash: string) => hash.slice(0, 12);
const rerun = (shard: number, shards: number) => `mats merge CONFIG --shard ${shard}/${shards}`;

/** The records of the merge to gather: the newest record's merge and shard count. */
function currentMerge(records: readonly RecordOnDisk[]): { merge: string; shards: number } {
  const newest = [...records].sort((a, b) => (a.record.finished < b.record.finished ? 1 : a.record.finished > b.record.finished ? -1 : 0))[0].record;
  return { merge: newest.merge, shards: newest.shards };
}

export async function gatherShards(output: string, options: GatherOptions = {}): Promise<GatherSummary> {
  const log = options.log ?? (() => undefined);
  const entries = await readdir(output).catch((e: NodeJS.ErrnoException) => {
    throw new UserError(`${output}: cannot read the output folder (${e.code === 'ENOENT' ? 'no such folder' : e.code === 'ENOTDIR' ? 'not a folder' : (e.code ?? String(e))})`);
  });
  if (!entries.includes(SHARDS_FOLDER)) throw new UserError(`${output} has no completion records (${SHARDS_FOLDER}/): it is not the output of mats merge --shard`);
  const { records, unreadable } = await readRecords(output);
  if (unreadable.length > 0) throw new ValidationError(`cannot gather ${output}`, unreadable.map((u) => u.problem));
  if (records.length === 0) throw new UserError(`${output}: no shard has completed yet (no record in ${SHARDS_FOLDER}/); run mats merge CONFIG --shard I/N for every shard first`);

  const { merge, shards } = currentMerge(records);
  const ours = new Map<number, CompletionRecord>();
  for (const { record } of records) if (record.merge === merge && record.shards === shards) ours.set(record.shard, record);
  const problems: string[] = [];
  for (let s = 0; s < shards; s++) {
    if (ours.has(s)) continue;
    const stale = records.find(({ record: r }) => r.shard === s && r.shards === shards);
    problems.push(
      stale === undefined
        ? `shard ${s}/${shards}: missing (no completion record); run ${rerun(s, shards)}`
        : `shard ${s}/${shards}: stale: completed ${stale.record.finished} for another config or inputs (merge ${short(stale.record.merge)}, the newest shards are merge ${short(merge)}); run ${rerun(s, shards)}`,
    );
  }
  for (const folder of await findShardTemporaryFolders(output)) {
    if (folder.state === 'running') problems.push(`${folder.path}: a shard is still being written (${folder.reason}); wait for it to finish`);
  }
  if (problems.length > 0) throw new ValidationError(`cannot gather ${output}: ${problems.length} problem${problems.length === 1 ? '' : 's'}; nothing was written`, problems);

  // Every record of the merge must describe the same output.
  const all = [...ours.values()];
  const first = all[0];
  const weightMap = new Map<string, string>();
  const fileOwner = new Map<string, number>();
  let totalSize = 0;
  for (const r of all) {
    if (r.outputFiles !== first.outputFiles || r.outputTensors !== first.outputTensors || JSON.stringify(r.metadata) !== JSON.stringify(first.metadata)) {
      problems.push(`shard ${r.shard}/${shards}: its record describes another output than shard ${first.shard}'s although the merge hash is the same; rerun it: ${rerun(r.shard, shards)}`);
    }
    for (const f of r.files) {
      const owner = fileOwner.get(f.name);
      if (owner !== undefined) problems.push(`${f.name}: written by shards ${owner} and ${r.shard}`);
      fileOwner.set(f.name, r.shard);
      totalSize += f.tensorBytes;
      for (const t of f.tensors) {
        if (weightMap.has(t)) problems.push(`tensor ${t}: in ${weightMap.get(t)} and ${f.name}`);
        weightMap.set(t, f.name);
      }
    }
  }
  for (const r of all) {
    for (const c of r.companions) {
      const owner = fileOwner.get(c.name);
      if (owner !== undefined) problems.push(`${c.name}: written by shards ${owner} and ${r.shard}`);
      fileOwner.set(c.name, r.shard);
    }
  }
  const companions = all.reduce((n, r) => n + r.companions.length, 0);
  if (fileOwner.size - companions !== first.outputFiles) problems.push(`the records name ${fileOwner.size - companions} files, the layout has ${first.outputFiles}`);
  if (weightMap.size !== first.outputTensors) problems.push(`the records name ${weightMap.size} tensors, the merge has ${first.outputTensors}`);
  const backends = new Set(all.map((r) => r.backend));
  if (backends.size > 1) log(`warning: the shards ran on different backends (${[...backends].join('; ')}): solves may differ from a single-process merge in the last bits`);

  // Each file: there, its recorded size, its recorded tensors (header), and with --verify its hash.
  for (const r of all) {
    const damage = await filesHaveRecordedSizes(output, [...r.files, ...r.companions]);
    if (damage !== undefined) {
      problems.push(`shard ${r.shard}/${shards}: ${damage}; rerun it: ${rerun(r.shard, shards)}`);
      continue;
    }
    for (const f of r.files) {
      const path = join(output, f.name);
      const fault = await checkFile(path, f.tensors, options.verify === true ? f.sha256 : undefined);
      if (fault !== undefined) problems.push(`shard ${r.shard}/${shards}: ${f.name} ${fault}; rerun it: ${rerun(r.shard, shards)}`);
    }
    if (options.verify === true) {
      for (const c of r.companions) {
        const path = join(output, c.name);
        if ((await fileStep(path, 'read', () => sha256OfFile(path))) !== c.sha256) problems.push(`shard ${r.shard}/${shards}: ${c.name} has other bytes than its shard wrote (SHA-256 differs); rerun it: ${rerun(r.shard, shards)}`);
      }
    }
  }
  if (problems.length > 0) throw new ValidationError(`cannot gather ${output}: ${problems.length} problem${problems.length === 1 ? '' : 's'}; nothing was written`, problems);

  const index = join(output, INDEX_FILE);
  await replaceFile(index, (temporary) => writeFile(temporary, shardIndexText(weightMap, totalSize, first.metadata)), join(output, `.${INDEX_FILE}.partial-${randomBytes(4).toString('hex')}`));

  const removed = await removeLeftovers(output, new Set(fileOwner.keys()), records, { merge, shards }, log);
  return { output, merge, shards, files: fileOwner.size - companions, companions: [...fileOwner.keys()].filter(isCompanionFile), tensors: weightMap.size, totalSize, verified: options.verify === true, removed };
}

/** Why a shard file does not hold what its record says, or undefined. */
async function checkFile(path: string, tensors: readonly string[], sha256: string | undefined): Promise<string | undefined> {
  let file: SafetensorsFile;
  try {
    file = await SafetensorsFile.open(path);
  } catch (e) {
    if (e instanceof UserError) return `is not a valid safetensors file (${e.message})`;
    throw e;
  }
  try {
    const names = new Set(file.tensors.map((t) => t.name));
    const missing = tensors.filter((t) => !names.has(t));
    if (missing.length > 0 || names.size !== tensors.length) return `does not hold the tensors its record names (${missing.length > 0 ? `missing ${listSome(missing, 3)}` : `${names.size} tensors, the record names ${tensors.length}`})`;
  } finally {
    await file.close();
  }
  if (sha256 !== undefined && (await fileStep(path, 'read', () => sha256OfFile(path))) !== sha256) return 'has other bytes than its shard wrote (SHA-256 differs)';
  return undefined;
}

/** Removes model and companion files no record of this merge names, other merges' records and dead shards' folders. */
async function removeLeftovers(output: string, keep: ReadonlySet<string>, records: readonly RecordOnDisk[], current: { merge: string; shards: number }, log: (message: string) => void): Promise<string[]> {
  const removed: string[] = [];
  const remove = async (path: string, why: string) => {
    const bytes = await stat(path).then((s) => s.size, () => 0);
    await fileStep(path, 'remove', () => rm(path, { recursive: true, force: true }));
    removed.push(path);
    log(`removed ${path}${bytes > 0 ? ` (${formatBytes(bytes)})` : ''}: ${why}`);
  };
  for (const name of (await readdir(output)).sort()) {
    if ((name.endsWith('.safetensors') || isCompanionFile(name)) && !keep.has(name)) await remove(join(output, name), 'not part of this merge (left by an earlier merge into this folder)');
  }
  for (const { path, record } of records) {
    if (record.merge !== current.merge || record.shards !== current.shards) await remove(path, `the record of another merge (${short(record.merge)}, ${record.shards} shards)`);
  }
  for (const name of (await readdir(join(output, SHARDS_FOLDER))).sort()) {
    // Staging folders (shard-0000I-of-0000N/) a shard killed after staging left: never part of an output.
    if (/^shard-\d+-of-\d+$/.test(name)) await remove(join(output, SHARDS_FOLDER, name), 'files staged by a shard that was stopped before it finished');
  }
  for (const folder of await findShardTemporaryFolders(output)) {
    if (folder.state === 'stale' && (await removeIfStale(folder))) {
      removed.push(folder.path);
      log(`removed ${describeTemporaryFolder(folder).replace(/; mats merge removes it.*$/, '')}`);
    } else if (folder.state !== 'running') log(describeTemporaryFolder(folder));
  }
  return removed;
}
