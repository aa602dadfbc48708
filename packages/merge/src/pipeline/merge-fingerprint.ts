/**
 * The identity of a merge, for distributed merges: a SHA-256 over what decides the output's
 * bytes, so that `mats gather` can tell that every shard merged the same thing.
 *
 * It covers
 *   - the output's metadata (mats version, method, parameters with their defaults, inputs with
 *     their paths, weights and statistics files, precision, backend, seed, output dtype, and the
 *     config text itself: aliases and shard_size included) and allow_nonfinite;
 *   - the Hugging Face folder files written beside the tensors (config.json, tokenizer files),
 *     whole;
 *   - each input file's fingerprint: its size, its whole safetensors header (names, dtypes,
 *     shapes, offsets, metadata) or, for an index, the whole file, and SAMPLES blocks of
 *     SAMPLE_BYTES of tensor data spread evenly over the file.
 * Reading every input in full would cost each shard the whole model's I/O; the samples catch a
 * retrained or replaced model (every block changes), not an edit of a few values between two
 * samples. Modification times are left out on purpose: the same bytes rewritten or touched are
 * the same input. Paths are in the metadata, relative to the config's folder: every shard must
 * see the inputs at the same places relative to the config (one config on a shared file system).
 */
import { createHash } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Checkpoint } from '../checkpoint/checkpoint.js';
import { INDEX_FILE } from '../checkpoint/shard-index.js';
import { fileStep } from '../util/file-errors.js';
import type { MergePlan } from './plan.js';

export const SAMPLES = 64;
export const SAMPLE_BYTES = 4096;

/** The files of a checkpoint: its index (when sharded) and each safetensors file, in a fixed order. */
function filesOf(checkpoint: Checkpoint): string[] {
  const files = new Set<string>();
  for (const name of checkpoint.names()) files.add(checkpoint.get(name)!.file);
  const sorted = [...files].sort();
  return checkpoint.kind === 'sharded' ? [join(checkpoint.path, INDEX_FILE), ...sorted] : sorted;
}

/** size, header (or the whole of a small non-safetensors file) and evenly spaced samples of one file, hashed. */
async function fileFingerprint(path: string): Promise<string> {
  return fileStep(path, 'read', async () => {
    const hash = createHash('sha256');
    const handle = await open(path, 'r');
    try {
      const { size } = await handle.stat();
      hash.update(`${size}\n`);
      const read = async (position: number, length: number) => {
        const buffer = new Uint8Array(Math.max(0, Math.min(length, size - position)));
        let done = 0;
        while (done < buffer.length) {
          const { bytesRead } = await handle.read(buffer, done, buffer.length - done, position + done);
          if (bytesRead === 0) break;
          done += bytesRead;
        }
        hash.update(buffer.subarray(0, done));
      };
      if (path.endsWith('.json')) {
        await read(0, size);
        return hash.digest('hex');
      }
      // The header: the 8-byte length and the JSON (already validated when the checkpoint opened).
      const prefix = new Uint8Array(8);
      await handle.read(prefix, 0, 8, 0);
      const headerEnd = Math.min(size, 8 + Number(new DataView(prefix.buffer).getBigUint64(0, true)));
      await read(0, headerEnd);
      const data = size - headerEnd;
      if (data <= SAMPLES * SAMPLE_BYTES) await read(headerEnd, data);
      else for (let k = 0; k < SAMPLES; k++) await read(headerEnd + Math.floor((k * (data - SAMPLE_BYTES)) / (SAMPLES - 1)), SAMPLE_BYTES);
      return hash.digest('hex');
    } finally {
      await handle.close();
    }
  });
}

export interface InputFingerprint {
  /** 'base', 'models[0]', 'models[0].stats' */
  readonly role: string;
  /** File names (the paths are in the metadata) with their fingerprints. */
  readonly files: readonly { readonly name: string; readonly digest: string }[];
}

/** The merge's identity: SHA-256 hex over the metadata, the settings outside it and every input's fingerprint. */
export async function mergeFingerprint(plan: MergePlan): Promise<{ hash: string; inputs: InputFingerprint[] }> {
  const inputs: InputFingerprint[] = [];
  for (const { role, checkpoint } of plan.inputs) {
    const files = [];
    for (const path of filesOf(checkpoint)) files.push({ name: basename(path), digest: await fileFingerprint(path) });
    inputs.push({ role, files });
  }
  const metadata = Object.keys(plan.metadata)
    .sort()
    .map((k) => [k, plan.metadata[k]]);
  // A Hugging Face folder's config and tokenizer files, as they will be written (config.json with its dtype).
  const companions = [];
  for (const f of plan.companionFiles) {
    const bytes = f.text ?? (await fileStep(f.from, 'read', () => readFile(f.from)));
    companions.push({ name: f.name, digest: createHash('sha256').update(bytes).digest('hex') });
  }
  const identity = { format: 1, metadata, allowNonFinite: plan.allowNonFinite, inputs, companions };
  return { hash: createHash('sha256').update(JSON.stringify(identity)).digest('hex'), inputs };
}
