/**
 * IEEE half (F16) and bfloat16 (BF16) conversions by hand: Node 20 has no Float16Array.
 *
 * Encoding rounds to nearest, ties to even, and keeps NaN a NaN (a quiet NaN with the sign and
 * the top payload bits). Float32 sources use bit manipulation on the float's bits; float64
 * sources round once from the double (going through float32 first would round twice).
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 bits -> F16 bits, round to nearest even. */
export function float32BitsToHalf(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const abs = bits & 0x7fffffff;
  if (abs >= 0x7f800000) {
    // Inf stays Inf; NaN keeps its top payload bits and gets the quiet bit so it stays NaN.
    return abs === 0x7f800000 ? sign | 0x7c00 : sign | 0x7e00 | ((abs >>> 13) & 0x3ff);
  }
  if (abs >= 0x477ff000) return sign | 0x7c00; // >= 65520 rounds to Inf
  const exponent = abs >>> 23;
  if (exponent < 113) {
    // Below 2^-14: a subnormal half, value = round(x * 2^24) = round(mantissa / 2^shift).
    const shift = 126 - exponent;
    if (shift > 24) return sign;
    const mantissa = (abs & 0x7fffff) | 0x800000;
    let q = mantissa >>> shift;
    const rem = mantissa & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (q & 1) === 1)) q++;
    return sign | q;
  }
  let h = ((exponent - 112) << 10) | ((abs >>> 13) & 0x3ff);
  const rem = abs & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1) === 1)) h++; // a carry may reach the exponent: still right
  return sign | h;
}

/** float32 bits -> BF16 bits: u32 += 0x7FFF + ((u32 >> 16) & 1), keep the high half; NaN stays NaN. */
export function float32BitsToBfloat16(bits: number): number {
  if ((bits & 0x7fffffff) > 0x7f800000) return ((bits >>> 16) | 0x40) & 0xffff;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

/** Round a non-negative finite double to an integer, ties to even (exact for values < 2^53). */
function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * A double -> bits of a binary format with `mantissaBits` stored mantissa bits and exponent bias
 * `bias`, rounded once to nearest even. Scaling by powers of two is exact in doubles, so the
 * only rounding is roundHalfEven's.
 */
function doubleToSmallFloatBits(x: number, mantissaBits: number, exponentBits: number): number {
  const bias = (1 << (exponentBits - 1)) - 1;
  const signBit = 1 << (mantissaBits + exponentBits);
  const expMask = (1 << exponentBits) - 1;
  const sign = x < 0 || Object.is(x, -0) ? signBit : 0;
  if (Number.isNaN(x)) return (expMask << mantissaBits) | (1 << (mantissaBits - 1));
  const a = Math.abs(x);
  if (a === Infinity) return sign | (expMask << mantissaBits);
  const minNormalExp = 1 - bias;
  // Subnormal (and zero) range: units of 2^(minNormalExp - mantissaBits).
  if (a < 2 ** minNormalExp) {
    const q = roundHalfEven(a * 2 ** (mantissaBits - minNormalExp));
    return sign | q; // q == 2^mantissaBits is the smallest normal: the encoding is right as is
  }
  let e = Math.floor(Math.log2(a));
  // log2 can be off by one near powers of two: correct it exactly.
  if (2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++;
  let m = roundHalfEven(a * 2 ** (mantissaBits - e)); // in [2^mb, 2^(mb+1)]
  if (m === 2 ** (mantissaBits + 1)) {
    m /= 2;
    e++;
  }
  if (e + bias >= expMask) return sign | (expMask << mantissaBits); // overflow: Inf
  return sign | ((e + bias) << mantissaBits) | (m - 2 ** mantissaBits);
}

/** A double -> F16 bits, rounded once to nearest even. */
export function doubleToHalf(x: number): number {
  return doubleToSmallFloatBits(x, 10, 5);
}

/** A double -> BF16 bits, rounded once to nearest even. */
export function doubleToBfloat16(x: number): number {
  return doubleToSmallFloatBits(x, 7, 8);
}

/** F16 bits -> number (exact). */
export function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >>> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 31) return mantissa === 0 ? sign * Infinity : NaN;
  return sign * (1024 + mantissa) * 2 ** (exponent - 25);
}

/** BF16 bits -> number (exact). */
export function bfloat16ToNumber(b: number): number {
  u32[0] = (b & 0xffff) << 16;
  return f32[0];
}

let halfTable: Float32Array | undefined;

/** All 65536 F16 values as float32, built once: decoding is one table lookup per element. */
function halfDecodeTable(): Float32Array {
  if (halfTable === undefined) {
    halfTable = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) halfTable[h] = halfToNumber(h);
  }
  return halfTable;
}

/** Decodes F16 bits into out (float32 or float64). */
export function decodeHalf(src: Uint16Array, out: Float32Array | Float64Array): void {
  const table = halfDecodeTable();
  for (let i = 0; i < src.length; i++) out[i] = table[src[i]];
}

/** Decodes BF16 bits into out (float32 or float64). */
export function decodeBfloat16(src: Uint16Array, out: Float32Array | Float64Array): void {
  if (out instanceof Float32Array) {
    const bits = new Uint32Array(out.buffer, out.byteOffset, out.length);
    for (let i = 0; i < src.length; i++) bits[i] = src[i] << 16;
  } else {
    for (let i = 0; i < src.length; i++) out[i] = bfloat16ToNumber(src[i]);
  }
}

/** Encodes values as F16 bits into out. */
export function encodeHalf(values: Float32Array | Float64Array, out: Uint16Array): void {
  if (values instanceof Float32Array) {
    const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
    for (let i = 0; i < values.length; i++) out[i] = float32BitsToHalf(bits[i]);
  } else {
    for (let i = 0; i < values.length; i++) out[i] = doubleToHalf(values[i]);
  }
}

/** Encodes values as BF16 bits into out. */
export function encodeBfloat16(values: Float32Array | Float64Array, out: Uint16Array): void {
  if (values instanceof Float32Array) {
    const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
    for (let i = 0; i < values.length; i++) out[i] = float32BitsToBfloat16(bits[i]);
  } else {
    for (let i = 0; i < values.length; i++) out[i] = doubleToBfloat16(values[i]);
  }
}

/** float32 bits of a number (after rounding to float32). */
export function float32Bits(x: number): number {
  f32[0] = x;
  return u32[0];
}
