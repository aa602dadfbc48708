/**
 * The completion record of one shard of a distributed merge (`mats merge CONFIG --shard I/N`):
 * a small JSON file, `OUTPUT/.mats-shards/shard-0000I-of-0000N.json`, written last (after the
 * shard's files are renamed into OUTPUT), so that its presence means the shard finished. It says
 * for which merge (the config + inputs hash, pipeline/merge-fingerprint.ts), which files the shard
 * wrote (names, sizes, SHA-256, tensors; shard 0 also a Hugging Face folder's config and
 * tokenizer files) and what the whole output will hold (how many files and tensors, its
 * metadata), so that `mats gather OUTPUT` can check every shard and write the index
 * without the config.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { UserError } from '../errors.js';
import { isCompanionFile } from './hf-folder.js';

/** The hidden folder of a distributed output that holds the completion records and the shards' temporary folders. */
export const SHARDS_FOLDER = '.mats-shards';

export const RECORD_FORMAT = 'mats-shard-record/1';

const pad = (i: number) => String(i).padStart(5, '0');

/** `shard-00002-of-00004`: the stem of shard I of N's record and temporary folders. */
export function shardStem(shard: number, shards: number): string {
  return `shard-${pad(shard)}-of-${pad(shards)}`;
}

/** The record's path for shard I of N in output folder target. */
export function recordPath(target: string, shard: number, shards: number): string {
  return join(target, SHARDS_FOLDER, `${shardStem(shard, shards)}.json`);
}

const RECORD_NAME = /^shard-(\d{5,})-of-(\d{5,})\.json$/;

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);
const count = z.number().int().nonnegative();

const fileSchema = z.strictObject({
  /** File name inside the output folder. */
  name: z.string().regex(/^model-\d{5,}-of-\d{5,}\.safetensors$/),
  /** Size of the file in bytes. */
  bytes: count,
  /** Bytes of tensor data in it (the index's total_size adds these up). */
  tensorBytes: count,
  sha256: sha256Hex,
  /** Its tensors, in plan order. */
  tensors: z.array(z.string()),
});

/** A Hugging Face folder's file beside the tensors (config.json, tokenizer files; checkpoint/hf-folder.ts), written by shard 0. */
const companionSchema = z.strictObject({
  name: z.string().refine(isCompanionFile, 'not a file of a Hugging Face folder that mats writes'),
  bytes: count,
  sha256: sha256Hex,
});

export const recordSchema = z.strictObject({
  format: z.literal(RECORD_FORMAT),
  /** SHA-256 of the config and inputs (pipeline/merge-fingerprint.ts): every shard of one merge has the same. */
  merge: sha256Hex,
  shard: count,
  shards: z.number().int().positive(),
  /** Files of the whole distributed output (every shard's), and its tensors. */
  outputFiles: z.number().int().positive(),
  outputTensors: count,
  /** The metadata of every output file, for the index (format, mats_version, mats_method, ...). */
  metadata: z.record(z.string(), z.string()),
  files: z.array(fileSchema),
  /** The companion files this shard wrote (shard 0 writes every one of them). */
  companions: z.array(companionSchema).default([]),
  /** Where and how it ran, for people reading the record; gather warns when shards ran on different backends. */
  host: z.string(),
  pid: z.number().int(),
  started: z.string(),
  finished: z.string(),
  seconds: z.number().nonnegative(),
  backend: z.string(),
});

export type CompletionRecord = z.output<typeof recordSchema>;
export type RecordedFile = CompletionRecord['files'][number];
export type RecordedCompanion = CompletionRecord['companions'][number];

/** The record text: indented JSON, keys in schema order. */
export function recordText(record: CompletionRecord): string {
  return `${JSON.stringify(record, null, 2)}\n`;
}

/** Parses a record file's text; a UserError naming the file and the fault otherwise. */
export function parseRecord(path: string, text: string): CompletionRecord {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${path}: not a completion record (not valid JSON: ${(e as Error).message}); remove it and rerun its shard`);
  }
  const parsed = recordSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UserError(`${path}: not a completion record of this mats (${issue.path.join('.') || 'the record'}: ${issue.message}); remove it and rerun its shard`);
  }
  const r = parsed.data;
  if (r.shard >= r.shards) throw new UserError(`${path}: shard ${r.shard} of ${r.shards} is out of range; remove it and rerun its shard`);
  return r;
}

export interface RecordOnDisk {
  readonly path: string;
  readonly record: CompletionRecord;
}

/** The completion records in target's records folder, by file name, and the ones that cannot be read (with why). */
export async function readRecords(target: string): Promise<{ records: RecordOnDisk[]; unreadable: { path: string; problem: string }[] }> {
  const folder = join(target, SHARDS_FOLDER);
  const records: RecordOnDisk[] = [];
  const unreadable: { path: string; problem: string }[] = [];
  let names: string[];
  try {
    names = await readdir(folder);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { records, unreadable };
    throw e;
  }
  for (const name of names.filter((n) => RECORD_NAME.test(n)).sort()) {
    const path = join(folder, name);
    try {
      const record = parseRecord(path, await readFile(path, 'utf8'));
      const [, shard, shards] = RECORD_NAME.exec(name)!;
      if (Number(shard) !== record.shard || Number(shards) !== record.shards) {
        throw new UserError(`${path}: its name says shard ${Number(shard)} of ${Number(shards)}, its contents shard ${record.shard} of ${record.shards}; remove it and rerun its shard`);
      }
      records.push({ path, record });
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      unreadable.push({ path, problem: e.message });
    }
  }
  return { records, unreadable };
}
