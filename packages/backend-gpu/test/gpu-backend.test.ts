import { ShapeError } from '@mats/core';
import { randomArray, referenceDot, unitRoundoff } from '@mats/core/testing';
import { describe, expect, it } from 'vitest';
import { createGpuBackend, GL_MODES, GpuUnavailableError, unavailableReason, type GpuBackend, type GpuMode } from '../src/index.js';
import { describeWithHeadlessGl } from './headlessgl.js';

const u = unitRoundoff('float32');

/** Behaviour every mode shares: caching, layouts, copy semantics, long reductions. */
function describeModeBehaviour(mode: GpuMode): void {
  describe(`gpu backend, ${mode} mode`, () => {
    const backend = createGpuBackend({ mode });

    it('reports the mode it runs, and keeps reductions on the device (the compensation probe passes)', () => {
      expect(backend.mode).toBe(mode);
      expect(backend.onGpu).toBe(GL_MODES.includes(mode));
      expect(backend.describe()).toContain(mode);
      const x = backend.fromArray([3, 4], [2]);
      expect(backend.nrm2(x)).toBe(5);
      expect(backend.reduction).toBe('device');
    });

    it('compiles a kernel once per operation and size, and reuses it', () => {
      const x = backend.fromArray(randomArray(97, 1), [97]);
      const y = backend.fromArray(randomArray(97, 2), [97]);
      const z = backend.fromArray(randomArray(98, 3), [98]);
      const w = backend.fromArray(randomArray(98, 4), [98]);
      const before = backend.compiledKernels;
      backend.axpy(0.5, x, y);
      expect(backend.compiledKernels).toBe(before + 1);
      for (let i = 0; i < 5; i++) backend.axpy(-0.25 * i, x, y);
      expect(backend.compiledKernels).toBe(before + 1);
      backend.axpy(0.5, z, w);
      expect(backend.compiledKernels).toBe(before + 2);
      expect(backend.kernelSwitches).toBe(0);
    });

    it('feeds gemm outputs (2-D layout) to every other kernel without gpu.js recompiling behind its back', () => {
      const [m, n, k] = [5, 7, 3];
      const a = backend.fromArray(randomArray(m * k, 5), [m, k]);
      const b = backend.fromArray(randomArray(k * n, 6), [k, n]);
      const c = backend.zeros([m, n]);
      backend.gemm('N', 'N', 1, a, b, 0, c);
      const flat = backend.reshape(c, [m * n]);
      const v = backend.fromArray(randomArray(m * n, 7), [m * n]);
      const expected = Float64Array.from(backend.toArray(flat));
      const vs = backend.toArray(v);
      backend.axpy(2, v, flat);
      const dot = backend.dot(flat, v);
      const got = backend.toArray(c);
      let ref = 0;
      for (let i = 0; i < m * n; i++) {
        const e = expected[i] + 2 * vs[i];
        expect(Math.abs(got[i] - e)).toBeLessThanOrEqual(4 * u * (Math.abs(expected[i]) + 2 * Math.abs(vs[i])));
        ref += got[i] * vs[i];
      }
      expect(Math.abs(dot - ref)).toBeLessThanOrEqual(4 * (m * n + 2) * u * Math.abs(ref) + 1e-12);
      backend.copyRange(v, 3, flat, 10, 20);
      expect(backend.toArray(c).subarray(10, 30)).toEqual(vs.subarray(3, 23));
      expect(backend.kernelSwitches).toBe(0);
    });

    it('copies by value: later writes to either side do not reach the other', () => {
      const src = backend.fromArray([1, 2, 3, 4], [4]);
      const dst = backend.zeros([4]);
      backend.copy(src, dst);
      backend.scal(10, src);
      expect(Array.from(backend.toArray(dst))).toEqual([1, 2, 3, 4]);
      backend.fill(dst, 7);
      expect(Array.from(backend.toArray(src))).toEqual([10, 20, 30, 40]);
      backend.copyRange(src, 0, dst, 0, 4);
      backend.dispose(src);
      expect(Array.from(backend.toArray(dst))).toEqual([10, 20, 30, 40]);
    });

    it('reduces vectors long enough to need a second device pass, accumulating as float64 would', () => {
      const n = 300_001; // 2344 blocks of 128: more than the 1024 read back, so pairs are summed again
      const x = new Float64Array(n).fill(2 ** -24);
      x[0] = 1;
      const tx = backend.fromArray(x, [n]);
      const ones = backend.fromArray(new Float64Array(n).fill(1), [n]);
      expect(Math.abs(backend.dot(tx, ones) - (1 + (n - 1) * 2 ** -24))).toBeLessThan(1e-12);

      const xs = Float64Array.from(Float32Array.from(randomArray(n, 11)));
      const ys = Float64Array.from(Float32Array.from(randomArray(n, 12)));
      const a = backend.fromArray(xs, [n]);
      const b = backend.fromArray(ys, [n]);
      let magnitude = 0;
      for (let i = 0; i < n; i++) magnitude += Math.abs(xs[i] * ys[i]);
      // Products round once (u each), the compensated sums add about u |sum|: far inside n u.
      expect(Math.abs(backend.dot(a, b) - referenceDot(xs, ys))).toBeLessThanOrEqual(4 * u * magnitude);
      const norm = Math.sqrt(referenceDot(xs, xs));
      expect(Math.abs(backend.nrm2(a) - norm)).toBeLessThanOrEqual(4 * u * norm);
      for (const t of [tx, ones, a, b]) backend.dispose(t);
    });

    it('computes nrm2 of long vectors whose squares overflow or underflow float32', () => {
      const n = 200_000;
      for (const scale of [1e30, 1e-30]) {
        const t = backend.fromArray(new Float64Array(n).fill(3 * scale), [n]);
        expect(backend.nrm2(t) / (3 * scale * Math.sqrt(n))).toBeCloseTo(1, 5);
        backend.dispose(t);
      }
    });

    it('lets NaN and Inf through dot and nrm2 (GLSL max() and the compensation must not hide them)', () => {
      for (const n of [1, 3, 300]) {
        for (const [bad, expected] of [
          [NaN, NaN],
          [Infinity, Infinity],
          [-Infinity, Infinity],
        ] as const) {
          const values = new Float64Array(n).fill(0.5);
          values[n - 1] = bad;
          const x = backend.fromArray(values, [n]);
          const ones = backend.fromArray(new Float64Array(n).fill(1), [n]);
          expect(backend.nrm2(x), `nrm2, n = ${n}, ${bad}`).toBe(expected);
          expect(backend.dot(x, ones), `dot, n = ${n}, ${bad}`).toBe(Number.isNaN(bad) ? NaN : bad);
          backend.dispose(x);
          backend.dispose(ones);
        }
      }
    });

    it('rejects a tensor larger than one texture (or typed array) holds, naming the shape', () => {
      const rows = Math.ceil((backend.maxElements + 1) / 2);
      expect(() => backend.zeros([rows, 2])).toThrow(ShapeError);
      expect(() => backend.zeros([rows, 2])).toThrow(`[${rows}, 2]`);
    });
  });
}

describeModeBehaviour('cpu');
describeModeBehaviour('webasm');
describeWithHeadlessGl('gpu backend on headless-gl: behaviour', () => {
  describeModeBehaviour('headlessgl');
  describeDeviceResidency();
});

describe('gpu backend construction', () => {
  it('refuses use after destroy()', async () => {
    const backend = createGpuBackend({ mode: 'cpu' });
    const x = backend.fromArray([1, 2], [2]);
    await backend.destroy();
    expect(() => backend.scal(2, x)).toThrow(/after destroy/);
  });

  it('refuses float64, saying that gpu.js has no float64', () => {
    expect(() => createGpuBackend({ dtype: 'float64' })).toThrow(/float32 only/);
  });

  it('takes the best mode available by default and says which', () => {
    const backend = createGpuBackend();
    const order: GpuMode[] = ['headlessgl', 'webgl2', 'webgl', 'webasm', 'cpu'];
    const best = order.find((mode) => unavailableReason(mode) === null);
    expect(backend.mode).toBe(best);
    for (const better of order.slice(0, order.indexOf(backend.mode))) expect(unavailableReason(better)).not.toBeNull();
  });

  it('with requireGpu, runs a GL mode or throws naming each GL mode and why it cannot run', () => {
    const glAvailable = GL_MODES.some((mode) => unavailableReason(mode) === null);
    if (glAvailable) {
      expect(createGpuBackend({ requireGpu: true }).onGpu).toBe(true);
    } else {
      let error: unknown;
      try {
        createGpuBackend({ requireGpu: true });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(GpuUnavailableError);
      const message = (error as Error).message;
      for (const mode of GL_MODES) expect(message).toContain(`${mode}: `);
      expect(message).toMatch(/will not run on the CPU/);
      expect((error as GpuUnavailableError).attempts.map((a) => a.mode)).toEqual([...GL_MODES]);
    }
  });

  it('refuses a host mode together with requireGpu, and modes that cannot run here', () => {
    expect(() => createGpuBackend({ mode: 'cpu', requireGpu: true })).toThrow(GpuUnavailableError);
    // webgl and webgl2 exist only in browsers.
    expect(() => createGpuBackend({ mode: 'webgl2' })).toThrow(/webgl2.*browser/);
    expect(() => createGpuBackend({ mode: 'bogus' as GpuMode })).toThrow(/unknown mode 'bogus'/);
    expect(() => createGpuBackend({ mode: 'cpu', reduction: 'bogus' as 'host' })).toThrow(/unknown reduction/);
  });
});

/** Counts what crosses between host and GL context, by wrapping the context's methods. */
interface TrafficCounter {
  /** Floats read back by readPixels. */
  readFloats: number;
  /** texImage2D / texSubImage2D calls that carried host data (uploads). */
  uploads: number;
  created: number;
  deleted: number;
}

function countTraffic(backend: GpuBackend): TrafficCounter {
  const gl = (backend.gpu as unknown as { context: Record<string, (...args: unknown[]) => unknown> }).context;
  const counter: TrafficCounter = { readFloats: 0, uploads: 0, created: 0, deleted: 0 };
  const wrap = (name: string, count: (args: unknown[]) => void) => {
    const original = gl[name].bind(gl);
    gl[name] = (...args: unknown[]) => {
      count(args);
      return original(...args);
    };
  };
  wrap('readPixels', (args) => (counter.readFloats += (args[2] as number) * (args[3] as number) * 4));
  const upload = (args: unknown[]) => {
    if (ArrayBuffer.isView(args[args.length - 1])) counter.uploads++;
  };
  wrap('texImage2D', upload);
  wrap('texSubImage2D', upload);
  wrap('createTexture', () => counter.created++);
  wrap('deleteTexture', () => counter.deleted++);
  return counter;
}

function describeDeviceResidency(): void {
  describe('data stays on the device', () => {
    const backend = createGpuBackend({ mode: 'headlessgl', requireGpu: true });
    const side = 128;
    const n = side * side;
    // A Kronecker operator (G (x) A) vec(P) = vec(G P A^T) with SPD factors, applied by two
    // gemms on the [side, side] view of the vector: a CG iteration's worth of work.
    const spd = (seed: number) => {
      const r = randomArray(side * side, seed);
      const a = new Float64Array(side * side);
      for (let i = 0; i < side; i++) for (let j = 0; j < side; j++) a[i * side + j] = (r[i * side + j] + r[j * side + i]) / (4 * side) + (i === j ? 1 : 0);
      return a;
    };
    const g = backend.fromArray(spd(1), [side, side]);
    const a = backend.fromArray(spd(2), [side, side]);
    const x = backend.zeros([n]);
    const r = backend.fromArray(randomArray(n, 3), [n]);
    const p = backend.zeros([n]);
    backend.copy(r, p);
    const q = backend.zeros([n]);
    const tmp = backend.zeros([side, side]);
    let rr = backend.dot(r, r);
    const iterate = () => {
      backend.gemm('N', 'N', 1, g, backend.reshape(p, [side, side]), 0, tmp);
      backend.gemm('N', 'T', 1, tmp, a, 0, backend.reshape(q, [side, side]));
      const alpha = rr / backend.dot(p, q);
      backend.axpy(alpha, p, x);
      backend.axpy(-alpha, q, r);
      const next = backend.dot(r, r);
      backend.axpby(1, r, next / rr, p);
      rr = next;
    };

    it('moves no vector through the host in a CG iteration: no uploads, reductions read back a few pairs', () => {
      iterate(); // compiles the kernels
      const traffic = countTraffic(backend);
      const iterations = 5;
      for (let i = 0; i < iterations; i++) iterate();
      expect(traffic.uploads).toBe(0);
      // Two reductions an iteration, each reading back (hi, lo) pairs of n / 128 blocks.
      expect(traffic.readFloats / iterations).toBeLessThanOrEqual(2 * 2 * Math.ceil(n / 128));
      expect(traffic.readFloats / iterations).toBeLessThan(n / 8);
      expect(Number.isFinite(rr)).toBe(true);
    });

    it('keeps the number of live textures flat over iterations, and dispose releases them', () => {
      const traffic = countTraffic(backend);
      // Past the first iterations (and CG's convergence, where beta = 0 brings in one more
      // kernel) every kernel ping-pongs between textures it already has.
      for (let i = 0; i < 25; i++) iterate();
      const live = traffic.created - traffic.deleted;
      for (let i = 0; i < 50; i++) iterate();
      expect(traffic.created - traffic.deleted).toBeLessThanOrEqual(live);

      const before = traffic.created - traffic.deleted;
      const tensors = Array.from({ length: 30 }, (_, i) => backend.fromArray(randomArray(n, 100 + i), [n]));
      expect(traffic.created - traffic.deleted).toBeGreaterThanOrEqual(before + 29);
      for (const t of tensors) backend.dispose(t);
      // The upload kernel may keep its last output texture for reuse; nothing else survives.
      expect(traffic.created - traffic.deleted).toBeLessThanOrEqual(before + 1);
    });
  });
}
