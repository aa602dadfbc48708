import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomArray } from '@mats/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelStatistics, parseStatisticKey, SafetensorsFile, writeStatisticsFile } from '../src/index.js';

describe('writeStatisticsFile', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mats-stats-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function statistics(): ModelStatistics {
    const model = new ModelStatistics();
    const fc = model.linear({ weight: 'fc.weight', bias: 'fc.bias', inFeatures: 5, outFeatures: 3 });
    fc.add(randomArray(7 * 5, 1), randomArray(7 * 3, 2));
    return model;
  }

  it('writes every statistic under <param>::<kind> with n_examples, readable by the reader, in F32 or F64', async () => {
    const model = statistics();
    const expected = model.statistics();
    for (const dtype of ['F32', 'F64'] as const) {
      const path = join(dir, `stats-${dtype}.safetensors`);
      await writeStatisticsFile(path, model, { dtype, metadata: { fisher: 'empirical' } });
      const file = await SafetensorsFile.open(path);
      try {
        expect(file.metadata).toEqual({ n_examples: '7', fisher: 'empirical' });
        expect(file.tensors.map((t) => t.name).sort()).toEqual(expected.map((s) => s.key).sort());
        for (const s of expected) {
          expect(parseStatisticKey(s.key)).toEqual({ parameter: s.parameter, kind: s.kind });
          const info = file.info(s.key);
          expect(info.dtype).toBe(dtype);
          expect(info.shape).toEqual(s.shape);
          const values = await file.readFloats(s.key, 'float64');
          const rtol = dtype === 'F64' ? 0 : 2 ** -24;
          values.forEach((v, i) => expect(Math.abs(v - s.data[i])).toBeLessThanOrEqual(rtol * Math.abs(s.data[i])));
          if (s.kind === 'input_gram' || s.kind === 'grad_gram' || s.kind === 'fisher_block') {
            const n = s.shape[0];
            // Rounding a symmetric matrix entrywise keeps it exactly symmetric: the merge's symmetry check passes.
            for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) expect(values[i * n + j]).toBe(values[j * n + i]);
          }
        }
      } finally {
        await file.close();
      }
    }
  });

  it('leaves nothing behind when the write fails, and names the file', async () => {
    const path = join(dir, 'missing-folder', 'stats.safetensors');
    await expect(writeStatisticsFile(path, statistics())).rejects.toThrow(/missing-folder/);
    expect(existsSync(path)).toBe(false);
    expect(existsSync(`${path}.partial`)).toBe(false);
    await expect(writeStatisticsFile(join(dir, 'empty.safetensors'), new ModelStatistics())).rejects.toThrow(/no statistics were registered/);
    expect((await readdir(dir)).filter((f) => f.includes('partial'))).toEqual([]);
  });
});
