/**
 * Writing a safetensors file. The layout (header, offsets) is fixed up front from the tensor
 * specs; tensors are then written in any order by positioned writes, so a merge can stream
 * them one at a time. close() refuses to finish a file with a tensor missing.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { SafetensorsError } from '../errors.js';
import type { FloatArray } from './decode.js';
import { isWritableDType } from './dtype.js';
import { encodeFloats } from './encode.js';
import { writeFully } from './io.js';
import { planFile, type FileLayout, type PlannedTensor, type TensorSpec } from './layout.js';

export class SafetensorsWriter {
  private readonly pending: Map<string, PlannedTensor>;

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    readonly layout: FileLayout,
  ) {
    this.pending = new Map(layout.tensors.map((t) => [t.name, t]));
  }

  /** Creates (or truncates) path and writes the header. */
  static async create(path: string, specs: readonly TensorSpec[], metadata?: Readonly<Record<string, string>>): Promise<SafetensorsWriter> {
    const layout = planFile(path, specs, metadata);
    const handle = await open(path, 'w');
    try {
      await writeFully(handle, layout.headerBytes, 0);
      // Fix the size now: an unfinished file then has zeros, not a short read, where tensors are missing.
      await handle.truncate(layout.fileSize);
    } catch (e) {
      await handle.close();
      throw e;
    }
    return new SafetensorsWriter(path, handle, layout);
  }

  /** Writes a float tensor, converting values to the tensor's dtype. */
  async writeFloats(name: string, values: FloatArray): Promise<void> {
    const t = this.take(name);
    if (!isWritableDType(t.dtype)) throw new SafetensorsError(this.path, `tensor ${JSON.stringify(name)}: cannot write dtype ${t.dtype} from numbers (writable: F64, F32, F16, BF16)`);
    if (values.length !== t.byteLength / (t.dtype === 'F64' ? 8 : t.dtype === 'F32' ? 4 : 2)) {
      throw new SafetensorsError(this.path, `tensor ${JSON.stringify(name)}: ${values.length} values for shape [${t.shape.join(', ')}]`);
    }
    await writeFully(this.handle, encodeFloats(values, t.dtype), t.fileOffset);
  }

  /** Writes a tensor's raw little-endian bytes (any dtype, e.g. an integer tensor copied as is). */
  async writeBytes(name: string, bytes: Uint8Array): Promise<void> {
    const t = this.take(name);
    if (bytes.length !== t.byteLength) {
      throw new SafetensorsError(this.path, `tensor ${JSON.stringify(name)}: ${bytes.length} bytes, expected ${t.byteLength}`);
    }
    await writeFully(this.handle, bytes, t.fileOffset);
  }

  /** Closes the file; throws if a tensor was never written (the file is then incomplete). */
  async close(): Promise<void> {
    await this.handle.close();
    if (this.pending.size > 0) {
      const missing = [...this.pending.keys()];
      throw new SafetensorsError(this.path, `closed with ${missing.length} tensor(s) never written: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}`);
    }
  }

  /** Closes without the completeness check (after a failure; the caller removes the file). */
  async abort(): Promise<void> {
    await this.handle.close().catch(() => undefined);
  }

  private take(name: string): PlannedTensor {
    const t = this.pending.get(name);
    if (t === undefined) {
      throw new SafetensorsError(this.path, this.layout.tensors.some((x) => x.name === name) ? `tensor ${JSON.stringify(name)} written twice` : `no tensor named ${JSON.stringify(name)} in this file's layout`);
    }
    this.pending.delete(name);
    return t;
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
