/**
 * The golden files of the reference implementation's tests (SAFETENSORS.md), byte for byte,
 * through the in-memory serialiser and the streaming file writer.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SafetensorsFile } from '../src/safetensors/reader.js';
import { serializeSafetensors, writeSafetensorsFile, type TensorData } from '../src/safetensors/writer.js';
import { rawFile, tempFolder } from './helpers.js';

function golden(header: string, padTo: number, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  return rawFile(header + ' '.repeat(padTo - header.length), data);
}

const values = new Float32Array([0, 1, 2, 3, 4, 5]);
const valueBytes = new Uint8Array(values.buffer.slice(0));

const cases: { name: string; tensors: TensorData[]; metadata?: Record<string, string>; expected: Uint8Array }[] = [
  { name: 'empty file', tensors: [], expected: golden('{}', 8) },
  { name: 'metadata only', tensors: [], metadata: { framework: 'pt' }, expected: golden('{"__metadata__":{"framework":"pt"}}', 40) },
  {
    name: 'one F32 tensor, no padding',
    tensors: [{ name: 'attn.0', dtype: 'F32', shape: [1, 2, 3], data: values }],
    expected: golden('{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}', 64, valueBytes),
  },
  {
    name: 'one F32 tensor, padded header',
    tensors: [{ name: 'attn0', dtype: 'F32', shape: [1, 1, 2, 3], data: values }],
    expected: golden('{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}', 72, valueBytes),
  },
];

describe('safetensors golden files', () => {
  it('have the documented sizes', () => {
    expect(cases.map((c) => c.expected.length)).toEqual([16, 48, 96, 104]);
  });

  for (const c of cases) {
    it(`${c.name}: serialised byte for byte`, () => {
      expect(serializeSafetensors(c.tensors, c.metadata)).toEqual(c.expected);
    });

    it(`${c.name}: written to disk byte for byte and read back`, async () => {
      const file = join(await tempFolder(), 'golden.safetensors');
      await writeSafetensorsFile(file, c.tensors, c.metadata);
      expect(new Uint8Array(await readFile(file))).toEqual(c.expected);
      const st = await SafetensorsFile.open(file);
      expect(st.metadata).toEqual(c.metadata ?? {});
      for (const t of c.tensors) expect(await st.readFloats(t.name, 'float32')).toEqual(values);
      await st.close();
    });
  }

  it('reads the unpadded I32 golden file', async () => {
    const data = new Uint8Array(new Int32Array([1, -2, 3, -4]).buffer);
    const bytes = rawFile('{"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}}', data);
    expect(bytes.length).toBe(8 + 60 + 16);
    const file = join(await tempFolder(), 'i32.safetensors');
    await writeFile(file, bytes);
    const st = await SafetensorsFile.open(file);
    expect(st.header.headerLength).toBe(60);
    expect(st.info('test')).toMatchObject({ dtype: 'I32', shape: [2, 2], size: 4 });
    expect([...(await st.readFloats('test', 'float64'))]).toEqual([1, -2, 3, -4]);
    expect(await st.readBytes('test')).toEqual(data);
    await st.close();
  });

  it('orders tensors by dtype (U64, I64, F64 first) and then by name', () => {
    const bytes = serializeSafetensors([
      { name: 'b', dtype: 'F32', shape: [1], data: new Float32Array([1]) },
      { name: 'a', dtype: 'F32', shape: [1], data: new Float32Array([2]) },
      { name: 'z', dtype: 'F64', shape: [1], data: new Float64Array([3]) },
      { name: 'h', dtype: 'F16', shape: [1], data: new Float32Array([4]) },
      { name: 'm', dtype: 'I64', shape: [1], data: new Uint8Array(8) },
      { name: '10', dtype: 'BF16', shape: [1], data: new Float32Array([5]) },
    ]);
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const header = new TextDecoder().decode(bytes.subarray(8, 8 + n)).trimEnd();
    expect(header).toBe(
      '{"m":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},"z":{"dtype":"F64","shape":[1],"data_offsets":[8,16]},' +
        '"a":{"dtype":"F32","shape":[1],"data_offsets":[16,20]},"b":{"dtype":"F32","shape":[1],"data_offsets":[20,24]},' +
        '"10":{"dtype":"BF16","shape":[1],"data_offsets":[24,26]},"h":{"dtype":"F16","shape":[1],"data_offsets":[26,28]}}',
    );
    expect(n % 8).toBe(0);
  });
});
