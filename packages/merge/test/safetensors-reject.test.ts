/** Every rule of "What a reader must reject" gives an error naming the file and the fault. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SafetensorsError } from '../src/errors.js';
import { SafetensorsFile } from '../src/safetensors/reader.js';
import { rawFile, tempFolder } from './helpers.js';

async function openBytes(bytes: Uint8Array): Promise<{ file: string; result: Promise<SafetensorsFile> }> {
  const file = join(await tempFolder(), 'case.safetensors');
  await writeFile(file, bytes);
  return { file, result: SafetensorsFile.open(file) };
}

async function expectRejected(bytes: Uint8Array, fault: RegExp): Promise<void> {
  const { file, result } = await openBytes(bytes);
  const error = await result.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SafetensorsError);
  expect((error as Error).message).toContain(file);
  expect((error as Error).message).toMatch(fault);
}

const entry = (name: string, dtype: string, shape: number[], begin: number, end: number) =>
  `"${name}":{"dtype":"${dtype}","shape":[${shape.join(',')}],"data_offsets":[${begin},${end}]}`;

describe('safetensors reader rejects', () => {
  it('a file shorter than 8 bytes', async () => {
    await expectRejected(new Uint8Array(5), /shorter than the 8-byte header length/);
  });

  it('a header length above 100 MB', async () => {
    await expectRejected(rawFile('{}', new Uint8Array(0), 100_000_001n), /above the limit/);
  });

  it('a header length past the end of the file', async () => {
    await expectRejected(rawFile('{}', new Uint8Array(0), 50n), /runs past the end of the file/);
  });

  it('a header length of 2^64 - 1', async () => {
    await expectRejected(rawFile('{}', new Uint8Array(0), 2n ** 64n - 1n), /above the limit/);
  });

  it('a header that is not UTF-8', async () => {
    const bytes = rawFile('{"a":1}');
    bytes[9] = 0xff;
    await expectRejected(bytes, /not valid UTF-8/);
  });

  it('a header that is not JSON', async () => {
    await expectRejected(rawFile('{"a": '), /not valid JSON/);
  });

  it('a header that is not an object', async () => {
    await expectRejected(rawFile('[1, 2]'), /not a JSON object/);
  });

  it('a duplicate tensor name', async () => {
    await expectRejected(rawFile(`{${entry('w', 'U8', [1], 0, 1)},${entry('w', 'U8', [1], 1, 2)}}`, new Uint8Array(2)), /duplicate tensor name "w"/);
  });

  it('overlapping offsets', async () => {
    await expectRejected(rawFile(`{${entry('a', 'F32', [2], 0, 8)},${entry('b', 'F32', [2], 4, 12)}}`, new Uint8Array(12)), /overlap/);
  });

  it('a hole between tensors', async () => {
    await expectRejected(rawFile(`{${entry('a', 'F32', [1], 0, 4)},${entry('b', 'F32', [1], 8, 12)}}`, new Uint8Array(12)), /hole of 4 bytes/);
  });

  it('a first tensor that does not start at 0', async () => {
    await expectRejected(rawFile(`{${entry('a', 'F32', [1], 4, 8)}}`, new Uint8Array(8)), /hole/);
  });

  it('offsets past the end of the file', async () => {
    await expectRejected(rawFile(`{${entry('a', 'F32', [4], 0, 16)}}`, new Uint8Array(8)), /runs past the end of the file/);
  });

  it('trailing bytes after the last tensor', async () => {
    await expectRejected(rawFile(`{${entry('a', 'F32', [1], 0, 4)}}`, new Uint8Array(6)), /2 trailing bytes/);
  });

  it('a byte size that does not match shape times dtype', async () => {
    await expectRejected(rawFile(`{${entry('a', 'F32', [3], 0, 8)}}`, new Uint8Array(8)), /hold 8 bytes, but shape \[3\] of F32 needs 12/);
  });

  it('end before begin', async () => {
    await expectRejected(rawFile(`{${entry('a', 'U8', [0], 4, 0)}}`, new Uint8Array(4)), /end before they begin/);
  });

  it('a shape whose element count overflows', async () => {
    await expectRejected(rawFile(`{${entry('a', 'F32', [2 ** 30, 2 ** 30, 2 ** 30], 0, 4)}}`, new Uint8Array(4)), /overflows/);
  });

  it('an unknown dtype, naming it', async () => {
    await expectRejected(rawFile(`{${entry('a', 'Q4', [1], 0, 1)}}`, new Uint8Array(1)), /unsupported dtype "Q4"/);
  });

  it('an entry with extra or missing fields', async () => {
    await expectRejected(rawFile('{"a":{"dtype":"U8","shape":[1]}}', new Uint8Array(1)), /exactly dtype, shape and data_offsets/);
  });

  it('metadata that is not string to string', async () => {
    await expectRejected(rawFile('{"__metadata__":{"n":1}}'), /__metadata__ value of "n" is not a string/);
  });

  it('a negative or fractional shape', async () => {
    await expectRejected(rawFile(`{${entry('a', 'U8', [-1], 0, 0)}}`), /shape is not a list of non-negative integers/);
    await expectRejected(rawFile(`{${entry('a', 'U8', [1.5], 0, 0)}}`), /shape is not a list of non-negative integers/);
  });
});

describe('safetensors reader accepts', () => {
  it('leading and trailing spaces around the header', async () => {
    const { result } = await openBytes(rawFile(`   {${entry('a', 'U8', [2], 0, 2)}}   `, new Uint8Array([7, 9])));
    const st = await result;
    expect([...(await st.readFloats('a', 'float32'))]).toEqual([7, 9]);
    await st.close();
  });

  it('unaligned data offsets', async () => {
    // U8 [3] then F32 [2] at data offset 3: the float data is not 4-byte aligned in the file.
    const data = new Uint8Array(3 + 8);
    data.set([1, 2, 3]);
    new DataView(data.buffer).setFloat32(3, 1.5, true);
    new DataView(data.buffer).setFloat32(7, -2.25, true);
    const { result } = await openBytes(rawFile(`{${entry('u', 'U8', [3], 0, 3)},${entry('f', 'F32', [2], 3, 11)}}`, data));
    const st = await result;
    expect([...(await st.readFloats('f', 'float32'))]).toEqual([1.5, -2.25]);
    expect([...(await st.readFloats('f', 'float64'))]).toEqual([1.5, -2.25]);
    await st.close();
  });

  it('empty tensors and scalars', async () => {
    const data = new Uint8Array(8);
    new DataView(data.buffer).setFloat64(0, Math.PI, true);
    const { result } = await openBytes(rawFile(`{${entry('e', 'F32', [0, 3], 0, 0)},${entry('s', 'F64', [], 0, 8)}}`, data));
    const st = await result;
    expect((await st.readFloats('e', 'float32')).length).toBe(0);
    expect([...(await st.readFloats('s', 'float64'))]).toEqual([Math.PI]);
    await st.close();
  });

  it('a known dtype it cannot read, rejecting it only when read, naming it', async () => {
    const { file, result } = await openBytes(rawFile(`{${entry('q', 'F8_E4M3', [2], 0, 2)}}`, new Uint8Array(2)));
    const st = await result;
    expect(st.info('q').dtype).toBe('F8_E4M3');
    await expect(st.readFloats('q', 'float32')).rejects.toThrow(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}.*unsupported dtype F8_E4M3`));
    expect(await st.readBytes('q')).toEqual(new Uint8Array(2));
    await st.close();
  });
});
