/**
 * safetensors dtypes: every name the format defines, its width, and which of them this
 * package reads as numbers or writes. Widths are in bits because F4 and F6 are sub-byte.
 */

/** Every dtype name the reference implementation knows, in the order its writer sorts by. */
export const DTYPE_WRITE_ORDER = [
  'BOOL', 'F4', 'F6_E2M3', 'F6_E3M2', 'U8', 'I8', 'F8_E5M2', 'F8_E4M3', 'F8_E8M0', 'F8_E4M3FNUZ',
  'F8_E5M2FNUZ', 'I16', 'U16', 'F16', 'BF16', 'I32', 'U32', 'F32', 'C64', 'F64', 'I64', 'U64',
] as const;

export type SafetensorsDType = (typeof DTYPE_WRITE_ORDER)[number];

const BITS: Record<SafetensorsDType, number> = {
  BOOL: 8, F4: 4, F6_E2M3: 6, F6_E3M2: 6, U8: 8, I8: 8, F8_E5M2: 8, F8_E4M3: 8, F8_E8M0: 8,
  F8_E4M3FNUZ: 8, F8_E5M2FNUZ: 8, I16: 16, U16: 16, F16: 16, BF16: 16, I32: 32, U32: 32, F32: 32,
  C64: 64, F64: 64, I64: 64, U64: 64,
};

/** dtypes whose values this package reads into numbers. */
export const READABLE_DTYPES = ['F64', 'F32', 'F16', 'BF16', 'I64', 'I32', 'I16', 'I8', 'U8', 'BOOL'] as const;
export type ReadableDType = (typeof READABLE_DTYPES)[number];

/** dtypes this package writes from numbers. */
export const WRITABLE_DTYPES = ['F64', 'F32', 'F16', 'BF16'] as const;
export type WritableDType = (typeof WRITABLE_DTYPES)[number];

/** Floating-point dtypes: the ones a merge combines (all others are copied). */
const FLOAT_DTYPES: ReadonlySet<string> = new Set([
  'F64', 'F32', 'F16', 'BF16', 'C64', 'F4', 'F6_E2M3', 'F6_E3M2', 'F8_E5M2', 'F8_E4M3', 'F8_E8M0',
  'F8_E4M3FNUZ', 'F8_E5M2FNUZ',
]);

export function isKnownDType(name: string): name is SafetensorsDType {
  return Object.prototype.hasOwnProperty.call(BITS, name);
}

export function isReadableDType(name: string): name is ReadableDType {
  return (READABLE_DTYPES as readonly string[]).includes(name);
}

export function isWritableDType(name: string): name is WritableDType {
  return (WRITABLE_DTYPES as readonly string[]).includes(name);
}

export function isFloatDType(name: SafetensorsDType): boolean {
  return FLOAT_DTYPES.has(name);
}

export function dtypeBits(dtype: SafetensorsDType): number {
  return BITS[dtype];
}

/** Bytes per element of a byte-aligned dtype (every readable or writable one). */
export function dtypeBytes(dtype: ReadableDType | WritableDType): number {
  return BITS[dtype] / 8;
}

/** Rank of a dtype in the reference writer's order: higher ranks are laid out first. */
export function dtypeWriteRank(dtype: SafetensorsDType): number {
  return DTYPE_WRITE_ORDER.indexOf(dtype);
}
