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

  it('loads @mats/backend-gpu only when asked, and says so while it exports no createGpuBackend', async () => {
    const gpu = (await import('@mats/backend-gpu')) as Record<string, unknown>;
    const result = await createBackend('gpu', 'float32');
    if (typeof gpu.createGpuBackend !== 'function') {
      expect(result).toEqual({ problem: 'backend: gpu is not available yet: @mats/backend-gpu exports no createGpuBackend; use backend: cpu' });
    } else {
      // Once the GPU backend exists: a backend, or a problem that names it (no GPU here).
      if ('problem' in result) expect(result.problem).toMatch(/^backend: gpu could not start: /);
      else expect(result.dtype).toBe('float32');
    }
  });
});
