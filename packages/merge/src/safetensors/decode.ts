/**
 * Little-endian bytes of a readable dtype -> numbers in a Float32Array or Float64Array.
 * Assumes a little-endian host (checked once at load: every platform Node supports today).
 */
import type { ReadableDType } from './dtype.js';
import { decodeBfloat16, decodeHalf } from './float16.js';

// Typed arrays use the host's byte order: the first byte of a 16-bit 1 is 1 on a little-endian host.
if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('@mats/merge needs a little-endian host: safetensors data is little-endian');

export type FloatArray = Float32Array | Float64Array;
export type Precision = 'float32' | 'float64';

export function allocateFloats(precision: Precision, n: number): FloatArray {
  return precision === 'float64' ? new Float64Array(n) : new Float32Array(n);
}

/**
 * Decodes `size` elements of dtype from bytes (whose byteOffset must be a multiple of 8,
 * e.g. a fresh allocation) into out.
 */
export function decodeInto(dtype: ReadableDType, bytes: Uint8Array, size: number, out: FloatArray): void {
  const { buffer, byteOffset } = bytes;
  switch (dtype) {
    case 'F64':
      out.set(new Float64Array(buffer, byteOffset, size));
      return;
    case 'F32':
      out.set(new Float32Array(buffer, byteOffset, size));
      return;
    case 'F16':
      decodeHalf(new Uint16Array(buffer, byteOffset, size), out);
      return;
    case 'BF16':
      decodeBfloat16(new Uint16Array(buffer, byteOffset, size), out);
      return;
    case 'I64': {
      const src = new BigInt64Array(buffer, byteOffset, size);
      for (let i = 0; i < size; i++) out[i] = Number(src[i]);
      return;
    }
    case 'I32':
      out.set(new Int32Array(buffer, byteOffset, size));
      return;
    case 'I16':
      out.set(new Int16Array(buffer, byteOffset, size));
      return;
    case 'I8':
      out.set(new Int8Array(buffer, byteOffset, size));
      return;
    case 'U8':
      out.set(new Uint8Array(buffer, byteOffset, size));
      return;
    case 'BOOL':
      for (let i = 0; i < size; i++) out[i] = bytes[i] === 0 ? 0 : 1;
      return;
  }
}
