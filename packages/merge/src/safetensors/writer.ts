/**
 * Writing a safetensors file. The layout (header, offsets) is fixed up front from the tensor
 * specs; tensors are then written in any order by positioned writes, so a merge can stream
 * them one at a time. close() refuses to finish a file with a tensor missing.
 */
import { SafetensorsError } from '../errors.js';
import type { ByteSink } from '../io/files.js';
import { createNodeFile } from '../io/node-io.js';
import type { FloatArray } from './decode.js';
import { dtypeBytes, isWritableDType } from './dtype.js';
import { encodeFloats } from './encode.js';
import { planFile, type FileLayout, type PlannedTensor, type TensorSpec } from './layout.js';

export class SafetensorsWriter {
  /** Tensors not yet complete, with the number of bytes still to write. */
  private readonly pending: Map<string, { tensor: PlannedTensor; bytesLeft: number }>;

  private constructor(
    private readonly sink: ByteSink,
    readonly layout: FileLayout,
  ) {
    this.pending = new Map(layout.tensors.map((t) => [t.name, { tensor: t, bytesLeft: t.byteLength }]));
  }

  /**
   * Creates the file with createFile (by default: path on the file system, created or
   * truncated) at its final size, and writes the header.
   */
  static async create(
    path: string,
    specs: readonly TensorSpec[],
    metadata?: Readonly<Record<string, string>>,
    createFile: (path: string, size: number) => Promise<ByteSink> = createNodeFile,
  ): Promise<SafetensorsWriter> {
    const layout = planFile(path, specs, metadata);
    const sink = await createFile(path, layout.fileSize);
    try {
      await sink.write(layout.headerBytes, 0);
    } catch (e) {
      await sink.abort();
      throw e;
    }
    return new SafetensorsWriter(sink, layout);
  }

  /** The file's path, as messages name it. */
  get path(): string {
    return this.sink.path;
  }

  /**
   * Writes values (converted to the tensor's dtype) at element offset `offset` of a tensor:
   * a whole tensor, or one chunk of it. Returns true once every byte of the tensor is written.
   * Chunks must not overlap.
   */
  async writeFloats(name: string, values: FloatArray, offset = 0): Promise<boolean> {
    const entry = this.entry(name);
    const t = entry.tensor;
    if (!isWritableDType(t.dtype)) throw new SafetensorsError(this.path, `tensor ${JSON.stringify(name)}: cannot write dtype ${t.dtype} from numbers (writable: F64, F32, F16, BF16)`);
    const width = dtypeBytes(t.dtype);
    const size = t.byteLength / width;
    if (offset < 0 || offset + values.length > size) {
      throw new SafetensorsError(this.path, `tensor ${JSON.stringify(name)}: ${values.length} values at offset ${offset} do not fit shape [${t.shape.join(', ')}]`);
    }
    await this.sink.write(encodeFloats(values, t.dtype), t.fileOffset + offset * width);
    return this.wrote(entry, values.length * width);
  }

  /** Writes a whole tensor's raw little-endian bytes (any dtype, e.g. an integer tensor copied as is). */
  async writeBytes(name: string, bytes: Uint8Array): Promise<boolean> {
    const entry = this.entry(name);
    if (bytes.length !== entry.tensor.byteLength) {
      throw new SafetensorsError(this.path, `tensor ${JSON.stringify(name)}: ${bytes.length} bytes, expected ${entry.tensor.byteLength}`);
    }
    await this.sink.write(bytes, entry.tensor.fileOffset);
    return this.wrote(entry, bytes.length);
  }

  /** Closes the file; throws if a tensor was never written (the file is then incomplete). */
  async close(): Promise<void> {
    if (this.pending.size > 0) {
      await this.sink.abort();
      const missing = [...this.pending.keys()];
      throw new SafetensorsError(this.path, `closed with ${missing.length} tensor(s) never written: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}`);
    }
    await this.sink.close();
  }

  /** Closes without the completeness check (after a failure; the caller removes the file). */
  async abort(): Promise<void> {
    await this.sink.abort();
  }

  private entry(name: string): { tensor: PlannedTensor; bytesLeft: number } {
    const entry = this.pending.get(name);
    if (entry === undefined) {
      throw new SafetensorsError(this.path, this.layout.tensors.some((x) => x.name === name) ? `tensor ${JSON.stringify(name)} written twice` : `no tensor named ${JSON.stringify(name)} in this file's layout`);
    }
    return entry;
  }

  private wrote(entry: { tensor: PlannedTensor; bytesLeft: number }, bytes: number): boolean {
    entry.bytesLeft -= bytes;
    if (entry.bytesLeft > 0) return false;
    this.pending.delete(entry.tensor.name);
    return true;
  }
}

/** A tensor with its contents, for writing a whole file at once. */
export interface TensorData extends TensorSpec {
  /** Numbers (converted to dtype, which must be writable) or raw little-endian bytes. */
  readonly data: FloatArray | Uint8Array;
}

/** Serialises tensors into one in-memory file (small files: tests, statistics). */
export function serializeSafetensors(tensors: readonly TensorData[], metadata?: Readonly<Record<string, string>>): Uint8Array {
  const layout = planFile('<memory>', tensors, metadata);
  const out = new Uint8Array(layout.fileSize);
  out.set(layout.headerBytes, 0);
  const byName = new Map(tensors.map((t) => [t.name, t]));
  for (const t of layout.tensors) {
    const { data } = byName.get(t.name)!;
    let bytes: Uint8Array;
    if (data instanceof Uint8Array) bytes = data;
    else if (isWritableDType(t.dtype)) bytes = encodeFloats(data, t.dtype);
    else throw new SafetensorsError('<memory>', `tensor ${JSON.stringify(t.name)}: cannot write dtype ${t.dtype} from numbers`);
    if (bytes.length !== t.byteLength) throw new SafetensorsError('<memory>', `tensor ${JSON.stringify(t.name)}: ${bytes.length} bytes, expected ${t.byteLength}`);
    out.set(bytes, t.fileOffset);
  }
  return out;
}

/** Writes tensors to one file at once. */
export async function writeSafetensorsFile(path: string, tensors: readonly TensorData[], metadata?: Readonly<Record<string, string>>): Promise<void> {
  const writer = await SafetensorsWriter.create(path, tensors, metadata);
  try {
    for (const t of tensors) {
      if (t.data instanceof Uint8Array) await writer.writeBytes(t.name, t.data);
      else await writer.writeFloats(t.name, t.data);
    }
  } catch (e) {
    await writer.abort();
    throw e;
  }
  await writer.close();
}
