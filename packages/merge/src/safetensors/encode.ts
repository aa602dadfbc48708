/** Numbers -> little-endian bytes of a writable dtype. */
import type { FloatArray } from './decode.js';
import { dtypeBytes, type WritableDType } from './dtype.js';
import { encodeBfloat16, encodeHalf } from './float16.js';

/** The values encoded as dtype, in a fresh buffer (a view of values itself when no conversion is needed). */
export function encodeFloats(values: FloatArray, dtype: WritableDType): Uint8Array {
  const n = values.length;
  switch (dtype) {
    case 'F64': {
      const out = values instanceof Float64Array ? values : new Float64Array(values);
      return new Uint8Array(out.buffer, out.byteOffset, n * 8);
    }
    case 'F32': {
      const out = values instanceof Float32Array ? values : new Float32Array(values);
      return new Uint8Array(out.buffer, out.byteOffset, n * 4);
    }
    case 'F16': {
      const out = new Uint16Array(n);
      encodeHalf(values, out);
      return new Uint8Array(out.buffer, 0, n * 2);
    }
    case 'BF16': {
      const out = new Uint16Array(n);
      encodeBfloat16(values, out);
      return new Uint8Array(out.buffer, 0, n * 2);
    }
  }
}

export function encodedByteLength(size: number, dtype: WritableDType): number {
  return size * dtypeBytes(dtype);
}
