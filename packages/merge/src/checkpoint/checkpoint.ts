/**
 * A checkpoint: a lazy map name -> tensor over one safetensors file or a sharded folder. Opening
 * reads and validates headers only; values are read per tensor on demand.
 */
import { SafetensorsError } from '../errors.js';
import { FileAccessError, type InputFiles } from '../io/files.js';
import { nodeInputFiles } from '../io/node-io.js';
import type { FloatArray, Precision } from '../safetensors/decode.js';
import type { SafetensorsDType } from '../safetensors/dtype.js';
import { SafetensorsFile, type ElementRange } from '../safetensors/reader.js';
import { INDEX_FILE, readShardIndex, SINGLE_FILE } from './shard-index.js';

export interface CheckpointTensor {
  readonly name: string;
  readonly dtype: SafetensorsDType;
  readonly shape: readonly number[];
  readonly size: number;
  readonly byteLength: number;
  /** The file that holds it. */
  readonly file: string;
}

/** Tied weights: a name that may be absent, and the names it may share storage with. */
export type AliasMap = Readonly<Record<string, readonly string[]>>;

/** The common tied-embedding layouts of transformers models. */
export const DEFAULT_ALIASES: AliasMap = {
  'lm_head.weight': ['model.embed_tokens.weight', 'transformer.wte.weight', 'model.decoder.embed_tokens.weight', 'shared.weight', 'embed_tokens.weight'],
};

export class Checkpoint {
  private constructor(
    /** The path as given (a file or a folder). */
    readonly path: string,
    readonly kind: 'file' | 'sharded',
    private readonly files: readonly SafetensorsFile[],
    private readonly tensorFile: ReadonlyMap<string, SafetensorsFile>,
  ) {}

  /**
   * Opens a .safetensors file, a folder with model.safetensors.index.json, or a folder with
   * model.safetensors (on the file system unless `inputs` says otherwise).
   */
  static async open(path: string, inputs: InputFiles = nodeInputFiles): Promise<Checkpoint> {
    let kind: 'file' | 'folder';
    try {
      kind = await inputs.kind(path);
    } catch (e) {
      if (!(e instanceof FileAccessError)) throw e;
      throw new SafetensorsError(path, e.code === 'ENOENT' ? 'no such file or folder' : `cannot open (${e.code})`);
    }
    if (kind === 'file') {
      const file = await SafetensorsFile.open(path, inputs);
      return new Checkpoint(path, 'file', [file], new Map(file.tensors.map((t) => [t.name, file])));
    }
    const entries = await inputs.list(path);
    if (entries.includes(INDEX_FILE)) return Checkpoint.openSharded(path, inputs);
    if (entries.includes(SINGLE_FILE)) {
      const file = await SafetensorsFile.open(inputs.join(path, SINGLE_FILE), inputs);
      return new Checkpoint(path, 'file', [file], new Map(file.tensors.map((t) => [t.name, file])));
    }
    throw new SafetensorsError(path, `folder has neither ${INDEX_FILE} nor ${SINGLE_FILE}`);
  }

  private static async openSharded(folder: string, inputs: InputFiles): Promise<Checkpoint> {
    const index = await readShardIndex(folder, inputs);
    const files: SafetensorsFile[] = [];
    try {
      for (const shard of index.shards) files.push(await SafetensorsFile.open(shard, inputs));
    } catch (e) {
      await Promise.all(files.map((f) => f.close()));
      throw e;
    }
    const byPath = new Map(files.map((f) => [f.path, f]));
    const tensorFile = new Map<string, SafetensorsFile>();
    const missing: string[] = [];
    for (const [tensor, shard] of index.weightMap) {
      const file = byPath.get(shard)!;
      if (file.has(tensor)) tensorFile.set(tensor, file);
      else missing.push(`${tensor} (in ${shard})`);
    }
    if (missing.length > 0) {
      await Promise.all(files.map((f) => f.close()));
      throw new SafetensorsError(inputs.join(folder, INDEX_FILE), `weight_map names ${missing.length} tensor(s) that their shard lacks: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}`);
    }
    return new Checkpoint(folder, 'sharded', files, tensorFile);
  }

  /** Tensor names, in file order (shard by shard). */
  names(): string[] {
    return [...this.tensorFile.keys()];
  }

  get(name: string): CheckpointTensor | undefined {
    const file = this.tensorFile.get(name);
    if (file === undefined) return undefined;
    const t = file.info(name);
    return { name, dtype: t.dtype, shape: t.shape, size: t.size, byteLength: t.byteLength, file: file.path };
  }

  /**
   * The tensor stored under name, or under one of its aliases when name itself is absent
   * (tied weights). `via` is the alias used.
   */
  resolve(name: string, aliases: AliasMap): { tensor: CheckpointTensor; via?: string } | undefined {
    const direct = this.get(name);
    if (direct !== undefined) return { tensor: direct };
    for (const alias of aliases[name] ?? []) {
      const t = this.get(alias);
      if (t !== undefined) return { tensor: t, via: alias };
    }
    return undefined;
  }

  /** Metadata of the first file (a sharded checkpoint's shards normally share it). */
  get metadata(): Readonly<Record<string, string>> {
    return this.files[0]?.metadata ?? {};
  }

  get fileCount(): number {
    return this.files.length;
  }

  get totalBytes(): number {
    let total = 0;
    for (const name of this.tensorFile.keys()) total += this.get(name)!.byteLength;
    return total;
  }

  async readFloats(name: string, precision: Precision, range?: ElementRange, into?: FloatArray): Promise<FloatArray> {
    return this.fileOf(name).readFloats(name, precision, range, into);
  }

  async readBytes(name: string): Promise<Uint8Array> {
    return this.fileOf(name).readBytes(name);
  }

  async close(): Promise<void> {
    await Promise.all(this.files.map((f) => f.close()));
  }

  private fileOf(name: string): SafetensorsFile {
    const file = this.tensorFile.get(name);
    if (file === undefined) throw new SafetensorsError(this.path, `no tensor named ${JSON.stringify(name)}`);
    return file;
  }
}
