/**
 * Where each tensor goes in a file, laid out exactly as the reference writer does it (so its
 * golden files come out byte for byte): tensors sorted by dtype in its order, then by name;
 * offsets assigned in that order; compact JSON with __metadata__ first; the header padded with
 * spaces to a multiple of 8.
 */
import { SafetensorsError } from '../errors.js';
import { dtypeBits, dtypeWriteRank, type SafetensorsDType } from './dtype.js';

export interface TensorSpec {
  readonly name: string;
  readonly dtype: SafetensorsDType;
  readonly shape: readonly number[];
}

export interface PlannedTensor extends TensorSpec {
  readonly byteLength: number;
  /** Absolute position in the file. */
  readonly fileOffset: number;
}

export interface FileLayout {
  /** The 8-byte length prefix followed by the padded header. */
  readonly headerBytes: Uint8Array;
  /** Tensors in file order. */
  readonly tensors: readonly PlannedTensor[];
  readonly fileSize: number;
}

export function tensorByteLength(spec: TensorSpec): number {
  let size = 1;
  for (const d of spec.shape) size *= d;
  return (size * dtypeBits(spec.dtype)) / 8;
}

export function planFile(file: string, specs: readonly TensorSpec[], metadata?: Readonly<Record<string, string>>): FileLayout {
  const names = new Set<string>();
  for (const s of specs) {
    if (s.name === '__metadata__') throw new SafetensorsError(file, 'a tensor cannot be named __metadata__');
    if (names.has(s.name)) throw new SafetensorsError(file, `duplicate tensor name ${JSON.stringify(s.name)}`);
    names.add(s.name);
  }
  // Descending rank (U64, I64, F64 first), then name ascending by code unit, as Rust sorts strings.
  const ordered = [...specs].sort((a, b) => dtypeWriteRank(b.dtype) - dtypeWriteRank(a.dtype) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  // Built by hand, not JSON.stringify of an object: JS puts integer-like keys ("0", "12") first.
  const entries: string[] = [];
  if (metadata !== undefined && Object.keys(metadata).length > 0) {
    const pairs = Object.keys(metadata).sort().map((k) => `${JSON.stringify(k)}:${JSON.stringify(metadata[k])}`);
    entries.push(`"__metadata__":{${pairs.join(',')}}`);
  }
  let offset = 0;
  const relative: number[] = [];
  for (const s of ordered) {
    const length = tensorByteLength(s);
    entries.push(`${JSON.stringify(s.name)}:{"dtype":"${s.dtype}","shape":[${s.shape.join(',')}],"data_offsets":[${offset},${offset + length}]}`);
    relative.push(offset);
    offset += length;
  }
  const json = new TextEncoder().encode(`{${entries.join(',')}}`);
  const padded = json.length + ((8 - (json.length % 8)) % 8);
  const headerBytes = new Uint8Array(8 + padded).fill(0x20, 8 + json.length);
  new DataView(headerBytes.buffer).setBigUint64(0, BigInt(padded), true);
  headerBytes.set(json, 8);
  const dataStart = headerBytes.length;
  const tensors = ordered.map((s, i) => ({ ...s, byteLength: tensorByteLength(s), fileOffset: dataStart + relative[i] }));
  return { headerBytes, tensors, fileSize: dataStart + offset };
}
