/** The backend named by the config: cpu at once, gpu loaded lazily and refused clearly until it exists. */
import { describe, expect, it } from 'vitest';
import { createBackend } from '../src/pipeline/backend.js';

describe('createBackend', () => {
  it('creates the cpu backend in the requested precision', async () => {
    for (const precision of ['float32', 'float64'] as const) {
      const backend = await createBackend('cpu', precision);
      expect('problem' in backend).toBe(false);
      expect(backend).toMatchObject({ name: 'cpu', dtype: precision });
    }
  });

  it('refuses gpu in float64, saying why and what to change', async () => {
    expect(await createBackend('gpu', 'float64')).toEqual({ problem: expect.stringMatching(/^backend: gpu computes in float32 only .*set precision: float32 or backend: cpu$/) });
  });

  it('loads @mats/backend-gpu when asked and runs it in float32 in the best mode available', async () => {
    const result = await createBackend('gpu', 'float32');
    if ('problem' in result) throw new Error(result.problem);
    expect(result).toMatchObject({ name: 'gpu', dtype: 'float32' });
    expect(['headlessgl', 'webgl2', 'webgl', 'webasm', 'cpu']).toContain(result.mode);
  });
});
