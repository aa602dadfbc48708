/**
 * Parsing and validating a safetensors header: every rule of the format (SAFETENSORS.md,
 * "What a reader must reject") is checked here, from the header bytes and the file size alone.
 */
import { SafetensorsError } from '../errors.js';
import { dtypeBits, isKnownDType, type SafetensorsDType } from './dtype.js';
import { JsonSyntaxError, parseStrictJson, type JsonValue } from './strict-json.js';

/** The reference implementation's limit on the header length. */
export const MAX_HEADER_BYTES = 100_000_000;

/** One tensor's header entry, with offsets made absolute in the file. */
export interface TensorInfo {
  readonly name: string;
  readonly dtype: SafetensorsDType;
  readonly shape: readonly number[];
  /** Number of elements: the product of shape (1 for a scalar). */
  readonly size: number;
  /** Byte offsets relative to the data buffer, END exclusive (as written in the header). */
  readonly dataOffsets: readonly [number, number];
  /** Absolute position of the first byte in the file. */
  readonly fileOffset: number;
  readonly byteLength: number;
}

export interface SafetensorsHeader {
  readonly metadata: Readonly<Record<string, string>>;
  /** Tensors in header order. */
  readonly tensors: readonly TensorInfo[];
  /** Header length N as written in the first 8 bytes. */
  readonly headerLength: number;
  /** Absolute position of the data buffer: 8 + N. */
  readonly dataStart: number;
}

/** Reads N from the first 8 bytes and checks it against the limit and the file size. */
export function parseHeaderLength(file: string, prefix: Uint8Array, fileSize: number): number {
  if (fileSize < 8) throw new SafetensorsError(file, `file is ${fileSize} bytes, shorter than the 8-byte header length`);
  const n = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) {
    throw new SafetensorsError(file, `header length ${n} is above the limit of ${MAX_HEADER_BYTES} bytes (corrupt or not a safetensors file)`);
  }
  const length = Number(n);
  if (8 + length > fileSize) {
    throw new SafetensorsError(file, `header length ${length} runs past the end of the file (${fileSize} bytes)`);
  }
  return length;
}

const isObject = (v: JsonValue): v is { [key: string]: JsonValue } => typeof v === 'object' && v !== null && !Array.isArray(v);

const isIndex = (v: JsonValue): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** Parses and validates header bytes [8, 8 + N) of a file of fileSize bytes. */
export function parseHeader(file: string, headerBytes: Uint8Array, fileSize: number): SafetensorsHeader {
  const fault = (message: string): never => {
    throw new SafetensorsError(file, message);
  };
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    return fault('header is not valid UTF-8');
  }
  let json: JsonValue;
  try {
    json = parseStrictJson(text);
  } catch (e) {
    if (e instanceof JsonSyntaxError) {
      if (e.message.startsWith('duplicate key')) return fault(`header has a ${e.message.replace('key', 'tensor name')}`);
      return fault(`header is not valid JSON: ${e.message}`);
    }
    throw e;
  }
  if (!isObject(json)) return fault('header is not a JSON object');

  let metadata: Record<string, string> = {};
  const tensors: TensorInfo[] = [];
  const dataStart = 8 + headerBytes.length;
  for (const name of Object.keys(json)) {
    const entry = json[name];
    if (name === '__metadata__') {
      if (!isObject(entry)) return fault('__metadata__ is not an object of strings');
      for (const [k, v] of Object.entries(entry)) {
        if (typeof v !== 'string') fault(`__metadata__ value of ${JSON.stringify(k)} is not a string`);
      }
      metadata = { ...(entry as Record<string, string>) };
      continue;
    }
    const where = `tensor ${JSON.stringify(name)}`;
    if (!isObject(entry)) return fault(`${where}: entry is not an object`);
    const keys = Object.keys(entry).sort().join(',');
    if (keys !== 'data_offsets,dtype,shape') {
      return fault(`${where}: entry must have exactly dtype, shape and data_offsets (has ${Object.keys(entry).join(', ') || 'nothing'})`);
    }
    const { dtype, shape, data_offsets: offsets } = entry;
    if (typeof dtype !== 'string') return fault(`${where}: dtype is not a string`);
    if (!isKnownDType(dtype)) return fault(`${where}: unsupported dtype ${JSON.stringify(dtype)}`);
    if (!Array.isArray(shape) || !shape.every(isIndex)) return fault(`${where}: shape is not a list of non-negative integers`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isIndex)) {
      return fault(`${where}: data_offsets is not a pair of non-negative integers`);
    }
    const [begin, end] = offsets as number[];
    if (end < begin) return fault(`${where}: data_offsets [${begin}, ${end}] end before they begin`);
    let size = 1;
    for (const d of shape as number[]) {
      size *= d;
      if (!Number.isSafeInteger(size)) return fault(`${where}: shape [${shape.join(', ')}] overflows the element count`);
    }
    const bits = size * dtypeBits(dtype);
    if (!Number.isSafeInteger(bits)) return fault(`${where}: shape [${shape.join(', ')}] overflows the byte size`);
    if (bits % 8 !== 0) return fault(`${where}: ${size} elements of ${dtype} do not fill whole bytes`);
    if (end - begin !== bits / 8) {
      return fault(`${where}: data_offsets [${begin}, ${end}] hold ${end - begin} bytes, but shape [${shape.join(', ')}] of ${dtype} needs ${bits / 8}`);
    }
    if (dataStart + end > Number.MAX_SAFE_INTEGER) return fault(`${where}: data_offsets overflow`);
    tensors.push({
      name,
      dtype,
      shape: shape as number[],
      size,
      dataOffsets: [begin, end],
      fileOffset: dataStart + begin,
      byteLength: end - begin,
    });
  }

  // The offsets must tile the data buffer exactly: no holes, no overlap, no trailing bytes.
  const sorted = [...tensors].sort((a, b) => a.dataOffsets[0] - b.dataOffsets[0] || a.dataOffsets[1] - b.dataOffsets[1]);
  let expected = 0;
  for (const t of sorted) {
    const [begin, end] = t.dataOffsets;
    if (begin > expected) return fault(`tensor ${JSON.stringify(t.name)}: data_offsets [${begin}, ${end}] leave a hole of ${begin - expected} bytes after offset ${expected}`);
    if (begin < expected) return fault(`tensor ${JSON.stringify(t.name)}: data_offsets [${begin}, ${end}] overlap the previous tensor, which ends at ${expected}`);
    expected = end;
  }
  const dataLength = fileSize - dataStart;
  if (expected > dataLength) return fault(`tensor data runs past the end of the file: offsets end at ${expected} but the data buffer holds ${dataLength} bytes`);
  if (expected < dataLength) return fault(`${dataLength - expected} trailing bytes after the last tensor (offsets end at ${expected}, data buffer holds ${dataLength} bytes)`);

  return { metadata, tensors, headerLength: headerBytes.length, dataStart };
}
