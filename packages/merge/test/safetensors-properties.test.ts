/**
 * fast-check properties of the safetensors reader and writer: random tensors round-trip for
 * every writable dtype; random corruption of a valid file always ends in a SafetensorsError
 * that names the file (or in a file that is still valid), never a crash or a hang.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SafetensorsError } from '../src/errors.js';
import type { WritableDType } from '../src/safetensors/dtype.js';
import { bfloat16ToNumber, halfToNumber } from '../src/safetensors/float16.js';
import { SafetensorsFile } from '../src/safetensors/reader.js';
import { serializeSafetensors, writeSafetensorsFile, type TensorData } from '../src/safetensors/writer.js';
import { tempFolder } from './helpers.js';

const shapeArb = fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 0, maxLength: 3 });
const sizeOf = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** Values exactly representable in dtype (so writing them loses nothing), NaN included. */
function valuesArb(dtype: WritableDType, n: number): fc.Arbitrary<number[]> {
  const element =
    dtype === 'F64'
      ? fc.double()
      : dtype === 'F32'
        ? fc.float()
        : fc.integer({ min: 0, max: 0xffff }).map((bits) => (dtype === 'F16' ? halfToNumber(bits) : bfloat16ToNumber(bits)));
  return fc.array(element, { minLength: n, maxLength: n });
}

const tensorArb = fc
  .record({ dtype: fc.constantFrom<WritableDType>('F64', 'F32', 'F16', 'BF16'), shape: shapeArb, precision: fc.constantFrom('float32', 'float64') as fc.Arbitrary<'float32' | 'float64'> })
  .chain(({ dtype, shape, precision }) => valuesArb(dtype, sizeOf(shape)).map((values) => ({ dtype, shape, precision, values })));

const filesArb = fc
  .uniqueArray(fc.tuple(fc.string({ minLength: 1, maxLength: 8 }), tensorArb), { selector: ([name]) => name, maxLength: 6 })
  .filter((ts) => ts.every(([name]) => name !== '__metadata__'));

const sameValue = (a: number, b: number) => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));

describe('safetensors round trip', () => {
  it('random tensors of every writable dtype read back exactly', async () => {
    const dir = await tempFolder();
    let run = 0;
    await fc.assert(
      fc.asyncProperty(filesArb, fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }), async (tensors, metadata) => {
        const data: TensorData[] = tensors.map(([name, t]) => ({
          name,
          dtype: t.dtype,
          shape: t.shape,
          data: t.precision === 'float64' || t.dtype === 'F64' ? Float64Array.from(t.values) : Float32Array.from(t.values),
        }));
        const file = join(dir, `rt-${run++}.safetensors`);
        await writeSafetensorsFile(file, data, metadata);
        const st = await SafetensorsFile.open(file);
        try {
          expect(st.metadata).toEqual({ ...metadata });
          for (const [name, t] of tensors) {
            expect(st.info(name)).toMatchObject({ dtype: t.dtype, shape: t.shape });
            for (const precision of ['float32', 'float64'] as const) {
              const back = await st.readFloats(name, precision);
              expect(back.length).toBe(t.values.length);
              for (let i = 0; i < back.length; i++) {
                // F64 values read as float32 are rounded; every other combination is exact.
                const expected = t.dtype === 'F64' && precision === 'float32' ? Math.fround(t.values[i]) : t.values[i];
                if (!sameValue(back[i], expected)) expect([name, i, back[i]]).toEqual([name, i, expected]);
              }
            }
          }
        } finally {
          await st.close();
        }
      }),
      { numRuns: 60 },
    );
  });
});

/** A valid file with a few tensors to corrupt. */
function validFile(): Uint8Array {
  return serializeSafetensors(
    [
      { name: 'layer.0.weight', dtype: 'F32', shape: [3, 4], data: Float32Array.from({ length: 12 }, (_, i) => i / 7) },
      { name: 'layer.0.bias', dtype: 'F16', shape: [3], data: new Float32Array([1, -2, 0.5]) },
      { name: 'steps', dtype: 'I64', shape: [], data: new Uint8Array(8) },
      { name: 'embed', dtype: 'BF16', shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) },
    ],
    { framework: 'pt' },
  );
}

const headerEnd = (bytes: Uint8Array) => 8 + Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));

type Corruption = { kind: 'truncate'; at: number } | { kind: 'flip'; at: number; value: number } | { kind: 'digit'; nth: number; digit: number };

const corruptionArb: fc.Arbitrary<Corruption[]> = fc.array(
  fc.oneof(
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant('digit' as const), nth: fc.nat(), digit: fc.integer({ min: 0, max: 9 }) }),
  ),
  { minLength: 1, maxLength: 3 },
);

function corrupt(original: Uint8Array, corruptions: Corruption[]): Uint8Array {
  let bytes = original.slice();
  const n = headerEnd(original);
  for (const c of corruptions) {
    if (c.kind === 'truncate') bytes = bytes.slice(0, c.at % bytes.length);
    else if (c.kind === 'flip') {
      // Mostly the length prefix and the header, where the structure is.
      const limit = Math.min(bytes.length, n);
      if (limit > 0) bytes[c.at % limit] = c.value;
    } else {
      // Rewrite one digit of the header: a bad offset, shape or length.
      const digits: number[] = [];
      for (let i = 8; i < Math.min(n, bytes.length); i++) if (bytes[i] >= 0x30 && bytes[i] <= 0x39) digits.push(i);
      if (digits.length > 0) bytes[digits[c.nth % digits.length]] = 0x30 + c.digit;
    }
  }
  return bytes;
}

describe('safetensors corruption', () => {
  it('always gives a SafetensorsError naming the file, or a file that still reads', async () => {
    const dir = await tempFolder();
    const original = validFile();
    let run = 0;
    await fc.assert(
      fc.asyncProperty(corruptionArb, async (corruptions) => {
        const file = join(dir, `c-${run++}.safetensors`);
        await writeFile(file, corrupt(original, corruptions));
        let st: SafetensorsFile;
        try {
          st = await SafetensorsFile.open(file);
        } catch (e) {
          expect(e).toBeInstanceOf(SafetensorsError);
          expect((e as Error).message.startsWith(`${file}: `)).toBe(true);
          return;
        }
        // Still valid: every tensor must read (values may differ, structure may not break).
        try {
          for (const t of st.tensors) {
            if (['F64', 'F32', 'F16', 'BF16', 'I64', 'I32', 'I16', 'I8', 'U8', 'BOOL'].includes(t.dtype)) {
              expect((await st.readFloats(t.name, 'float64')).length).toBe(t.size);
            } else {
              await expect(st.readFloats(t.name, 'float64')).rejects.toThrow(/unsupported dtype/);
            }
          }
        } finally {
          await st.close();
        }
      }),
      { numRuns: 300 },
    );
  });
});
