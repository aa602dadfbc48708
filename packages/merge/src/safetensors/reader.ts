/**
 * Reading one safetensors file: the header at open, each tensor on demand by a positioned read
 * of its own bytes. The whole file is never read at once (Node Buffers stop at 4 GiB; a page's
 * memory may be smaller than the model).
 */
import { SafetensorsError } from '../errors.js';
import { FileAccessError, type ByteSource, type InputFiles } from '../io/files.js';
import { nodeInputFiles } from '../io/node-io.js';
import { allocateFloats, decodeInto, type FloatArray, type Precision } from './decode.js';
import { dtypeBytes, isReadableDType } from './dtype.js';
import { parseHeader, parseHeaderLength, type SafetensorsHeader, type TensorInfo } from './header.js';

/** A contiguous run of elements in flat row-major order. */
export interface ElementRange {
  readonly offset: number;
  readonly length: number;
}

export class SafetensorsFile {
  private readonly byName: Map<string, TensorInfo>;
  private closed = false;

  private constructor(
    private readonly source: ByteSource,
    readonly header: SafetensorsHeader,
  ) {
    this.byName = new Map(header.tensors.map((t) => [t.name, t]));
  }

  /**
   * Opens a file (on the file system unless `files` says otherwise) and validates its header;
   * throws SafetensorsError naming the file and fault.
   */
  static async open(path: string, files: InputFiles = nodeInputFiles): Promise<SafetensorsFile> {
    let source: ByteSource;
    try {
      source = await files.open(path);
    } catch (e) {
      if (!(e instanceof FileAccessError)) throw e;
      throw new SafetensorsError(path, e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'is a folder, not a file' : `cannot open (${e.code})`);
    }
    return SafetensorsFile.read(source);
  }

  /** Validates the header of an open source; closes it when that fails. */
  static async read(source: ByteSource): Promise<SafetensorsFile> {
    try {
      const { size, path } = source;
      const prefix = new Uint8Array(8);
      if (size >= 8) await source.read(prefix, 0);
      const length = parseHeaderLength(path, prefix, size);
      const headerBytes = new Uint8Array(length);
      await source.read(headerBytes, 8);
      const header = parseHeader(path, headerBytes, size);
      return new SafetensorsFile(source, header);
    } catch (e) {
      await source.close();
      throw e;
    }
  }

  /** The file's path, as messages name it. */
  get path(): string {
    return this.source.path;
  }

  get fileSize(): number {
    return this.source.size;
  }

  get metadata(): Readonly<Record<string, string>> {
    return this.header.metadata;
  }

  get tensors(): readonly TensorInfo[] {
    return this.header.tensors;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  info(name: string): TensorInfo {
    const t = this.byName.get(name);
    if (t === undefined) throw new SafetensorsError(this.path, `no tensor named ${JSON.stringify(name)}`);
    return t;
  }

  /** The tensor's raw little-endian bytes, in a fresh 8-byte-aligned allocation. */
  async readBytes(name: string): Promise<Uint8Array> {
    const t = this.info(name);
    this.checkOpen();
    const bytes = new Uint8Array(t.byteLength);
    await this.source.read(bytes, t.fileOffset);
    return bytes;
  }

  /**
   * The tensor's values as numbers in the given precision; with a range, only elements
   * [range.offset, range.offset + range.length) in flat row-major order. `into` (of that
   * length and precision) receives them instead of a fresh array: the streaming merge reads
   * straight into arrays the WebAssembly kernels can reach.
   */
  async readFloats(name: string, precision: Precision, range?: ElementRange, into?: FloatArray): Promise<FloatArray> {
    const t = this.info(name);
    if (!isReadableDType(t.dtype)) {
      throw new SafetensorsError(this.path, `tensor ${JSON.stringify(name)}: unsupported dtype ${t.dtype} (readable: F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL)`);
    }
    this.checkOpen();
    const offset = range?.offset ?? 0;
    const length = range?.length ?? t.size;
    if (offset < 0 || length < 0 || offset + length > t.size) {
      throw new RangeError(`${this.path}: tensor ${JSON.stringify(name)} has ${t.size} elements; cannot read [${offset}, ${offset + length})`);
    }
    const width = dtypeBytes(t.dtype);
    const position = t.fileOffset + offset * width;
    const byteLength = length * width;
    if (into !== undefined && (into.length !== length || (precision === 'float64') !== (into instanceof Float64Array))) {
      throw new RangeError(`${this.path}: tensor ${JSON.stringify(name)}: the target array holds ${into.length} ${into instanceof Float64Array ? 'float64' : 'float32'} values, not ${length} ${precision}`);
    }
    const out = into ?? allocateFloats(precision, length);
    const sameWidth = (t.dtype === 'F32' && precision === 'float32') || (t.dtype === 'F64' && precision === 'float64');
    if (sameWidth) {
      // Read straight into the result: no staging copy.
      await this.source.read(new Uint8Array(out.buffer, out.byteOffset, byteLength), position);
      return out;
    }
    const bytes = new Uint8Array(byteLength);
    await this.source.read(bytes, position);
    decodeInto(t.dtype, bytes, length, out);
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.source.close();
  }

  private checkOpen(): void {
    if (this.closed) throw new Error(`${this.path}: read after close`);
  }
}
