/**
 * F16 and BF16 conversions, checked exhaustively over all 65536 bit patterns: every value
 * round-trips, every midpoint between neighbours rounds to the even one, values just off a
 * midpoint round to the nearer one, and the float32 bit path agrees with the double path.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bfloat16ToNumber,
  doubleToBfloat16,
  doubleToHalf,
  float32Bits,
  float32BitsToBfloat16,
  float32BitsToHalf,
  halfToNumber,
} from '../src/safetensors/float16.js';

interface Format {
  name: string;
  decode: (bits: number) => number;
  fromFloat32Bits: (bits: number) => number;
  fromDouble: (x: number) => number;
  /** Bits of +Inf. */
  inf: number;
}

const formats: Format[] = [
  { name: 'F16', decode: halfToNumber, fromFloat32Bits: float32BitsToHalf, fromDouble: doubleToHalf, inf: 0x7c00 },
  { name: 'BF16', decode: bfloat16ToNumber, fromFloat32Bits: float32BitsToBfloat16, fromDouble: doubleToBfloat16, inf: 0x7f80 },
];

const both = (f: Format, x: number): [number, number] => [f.fromFloat32Bits(float32Bits(x)), f.fromDouble(x)];

for (const f of formats) {
  describe(`${f.name} conversion`, () => {
    it('round-trips every bit pattern (NaN stays NaN)', () => {
      for (let bits = 0; bits < 0x10000; bits++) {
        const x = f.decode(bits);
        if (Number.isNaN(x)) {
          for (const back of both(f, x)) if (!Number.isNaN(f.decode(back))) throw new Error(`NaN ${bits.toString(16)} -> ${back.toString(16)}`);
          continue;
        }
        const [a, b] = both(f, x);
        if (a !== bits || b !== bits) throw new Error(`${f.name} ${bits.toString(16)} (${x}) -> ${a.toString(16)} / ${b.toString(16)}`);
      }
    });

    it('rounds midpoints to even and near-midpoints to the nearer neighbour', () => {
      // Positive finite patterns and their finite successor.
      for (let bits = 0; bits < f.inf - 1; bits++) {
        const lo = f.decode(bits);
        const hi = f.decode(bits + 1);
        const mid = (lo + hi) / 2; // exact in float32 and in double
        const even = bits % 2 === 0 ? bits : bits + 1;
        for (const got of both(f, mid)) if (got !== even) throw new Error(`${f.name} midpoint of ${bits.toString(16)}: ${got.toString(16)}, want ${even.toString(16)}`);
        for (const got of both(f, -mid)) if (got !== (even | 0x8000)) throw new Error(`${f.name} -midpoint of ${bits.toString(16)}`);
        const step = (hi - lo) / 1024; // well inside float32 precision of mid
        for (const got of both(f, mid - step)) if (got !== bits) throw new Error(`${f.name} below midpoint of ${bits.toString(16)}: ${got.toString(16)}`);
        for (const got of both(f, mid + step)) if (got !== bits + 1) throw new Error(`${f.name} above midpoint of ${bits.toString(16)}: ${got.toString(16)}`);
      }
    });

    it('keeps every float32 NaN a NaN, even one whose payload is only in the low bits', () => {
      for (const nan of [0x7f800001, 0xff800001, 0x7fc00000, 0x7fffffff, 0x7f802000]) {
        expect(Number.isNaN(f.decode(f.fromFloat32Bits(nan)))).toBe(true);
      }
    });

    it('keeps signed zeros and infinities', () => {
      expect(both(f, 0)).toEqual([0, 0]);
      expect(both(f, -0)).toEqual([0x8000, 0x8000]);
      expect(both(f, Infinity)).toEqual([f.inf, f.inf]);
      expect(both(f, -Infinity)).toEqual([f.inf | 0x8000, f.inf | 0x8000]);
    });

    it('agrees between the float32 bit path and the double path on random float32 values', () => {
      fc.assert(
        fc.property(fc.float({ noNaN: true }), (x) => {
          const [a, b] = both(f, x);
          expect(a).toBe(b);
        }),
        { numRuns: 5000 },
      );
    });
  });
}

describe('F16 limits', () => {
  it('rounds at the documented boundaries', () => {
    expect(doubleToHalf(65504)).toBe(0x7bff); // largest finite half
    expect(doubleToHalf(65519.99)).toBe(0x7bff);
    expect(doubleToHalf(65520)).toBe(0x7c00); // ties to even: Inf
    expect(halfToNumber(0x0001)).toBe(2 ** -24); // smallest subnormal
    expect(doubleToHalf(2 ** -25)).toBe(0); // tie between 0 and 2^-24: even is 0
    expect(doubleToHalf(2 ** -25 * 1.0000001)).toBe(1);
  });

  it('rounds a double once, not through float32', () => {
    // 1 + 2^-11 + 2^-40: above the F16 midpoint between 1 and 1 + 2^-10, so it rounds up;
    // rounding to float32 first drops the 2^-40 and leaves a tie that rounds down to 1.
    const x = 1 + 2 ** -11 + 2 ** -40;
    expect(doubleToHalf(x)).toBe(0x3c01);
    expect(float32BitsToHalf(float32Bits(x))).toBe(0x3c00);
  });
});

describe('BF16 rule', () => {
  it('matches u32 += 0x7FFF + ((u32 >> 16) & 1) on random float32 bits', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (u) => {
        const abs = u & 0x7fffffff;
        if (abs > 0x7f800000) return; // NaN has its own rule
        const expected = Number((BigInt(u) + 0x7fffn + BigInt((u >>> 16) & 1)) >> 16n) & 0xffff;
        expect(float32BitsToBfloat16(u)).toBe(expected);
      }),
      { numRuns: 5000 },
    );
  });
});
