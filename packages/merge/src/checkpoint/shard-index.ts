/**
 * model.safetensors.index.json (the transformers sharding convention):
 * {"metadata": {"total_size": N}, "weight_map": {"<tensor>": "<shard file>"}}.
 */
import { SafetensorsError } from '../errors.js';
import { FileAccessError, type InputFiles } from '../io/files.js';
import { nodeInputFiles } from '../io/node-io.js';

export const INDEX_FILE = 'model.safetensors.index.json';
export const SINGLE_FILE = 'model.safetensors';

/** The name transformers gives file `number` (1-based) of `count`: model-00001-of-00003.safetensors. */
export function shardFileName(number: number, count: number): string {
  const pad = (i: number) => String(i).padStart(5, '0');
  return `model-${pad(number)}-of-${pad(count)}.safetensors`;
}

/**
 * The text of model.safetensors.index.json: total_size (bytes of tensor data) and the output's
 * metadata, then weight_map sorted by tensor name. One writer for the single-process merge and
 * `mats gather`, so both write the same bytes for the same layout.
 */
export function shardIndexText(weightMap: ReadonlyMap<string, string>, totalSize: number, metadata: Readonly<Record<string, string>>): string {
  const sorted: Record<string, string> = {};
  for (const name of [...weightMap.keys()].sort()) sorted[name] = weightMap.get(name)!;
  return `${JSON.stringify({ metadata: { total_size: totalSize, ...metadata }, weight_map: sorted }, null, 2)}\n`;
}

export interface ShardIndex {
  readonly metadata: Readonly<Record<string, unknown>>;
  /** tensor name -> shard path (absolute on the file system) */
  readonly weightMap: ReadonlyMap<string, string>;
  /** Distinct shard paths, in first-use order. */
  readonly shards: readonly string[];
}

/**
 * A weight_map entry must name a file inside the folder: no absolute path (on any platform),
 * no '..', nothing that resolves to the folder itself. Returns the shard's path or a reason for
 * rejecting it. The checks are on the text alone, so every platform rejects the same entries.
 */
export function resolveShardPath(folder: string, entry: string, files: Pick<InputFiles, 'resolve'> = nodeInputFiles): string | { reason: string } {
  if (entry.length === 0) return { reason: 'is empty' };
  if (entry.startsWith('/') || entry.startsWith('\\') || /^[a-zA-Z]:/.test(entry)) return { reason: 'is an absolute path' };
  const segments = entry.split(/[\\/]/);
  if (segments.includes('..')) return { reason: "contains '..'" };
  if (entry.includes('\0')) return { reason: 'contains a NUL byte' };
  // Without '..' and not absolute, the only way out is to name the folder itself ('.', './').
  if (segments.every((s) => s === '' || s === '.')) return { reason: 'leaves the folder' };
  return files.resolve(folder, entry);
}

export async function readShardIndex(folder: string, files: InputFiles = nodeInputFiles): Promise<ShardIndex> {
  const file = files.join(folder, INDEX_FILE);
  let text: string;
  try {
    text = await files.readText(file);
  } catch (e) {
    if (!(e instanceof FileAccessError)) throw e;
    throw new SafetensorsError(file, `cannot read (${e.code})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new SafetensorsError(file, `not valid JSON: ${(e as Error).message}`);
  }
  const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isRecord(json)) throw new SafetensorsError(file, 'not a JSON object');
  const map = json.weight_map;
  if (!isRecord(map)) throw new SafetensorsError(file, 'has no "weight_map" object');
  const weightMap = new Map<string, string>();
  const shards: string[] = [];
  const problems: string[] = [];
  for (const [tensor, entry] of Object.entries(map)) {
    if (typeof entry !== 'string') {
      problems.push(`weight_map[${JSON.stringify(tensor)}] is not a string`);
      continue;
    }
    const path = resolveShardPath(folder, entry, files);
    if (typeof path !== 'string') {
      problems.push(`weight_map[${JSON.stringify(tensor)}] = ${JSON.stringify(entry)} ${path.reason}`);
      continue;
    }
    weightMap.set(tensor, path);
    if (!shards.includes(path)) shards.push(path);
  }
  if (problems.length > 0) {
    throw new SafetensorsError(file, problems.length === 1 ? problems[0] : `${problems.length} bad weight_map entries: ${problems.slice(0, 5).join('; ')}`);
  }
  return { metadata: isRecord(json.metadata) ? json.metadata : {}, weightMap, shards };
}
