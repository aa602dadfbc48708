/**
 * dot and nrm2: float32 products, summed so that the result matches float64 accumulation.
 *
 * 'device': each thread sums a block of BLOCK products with Neumaier compensation and writes
 * the pair (hi, lo) (kernels/reduction.ts); further passes sum pairs of pairs the same way
 * until at most HOST_BLOCKS pairs remain, which are read back and summed in float64. The error
 * is about u |sum| + O(BLOCK u^2) sum|terms| (u = 2^-24) on top of the products' own rounding,
 * and only 2 HOST_BLOCKS floats cross to the host. A plain float32 tree of partial sums would
 * lose u per level (the conformance suite's "accumulates in float64" case catches that).
 *
 * 'host': x and y are read back and everything runs in float64. It moves whole vectors, so it
 * is the fallback for devices whose shader compiler cancels the compensation, which a probe
 * checks once on the first reduction.
 */
import { flattenOutput, isTexture, layoutKey, readBuffer, releaseBuffer, type DeviceBuffer } from './device-buffer.js';
import type { KernelCache } from './kernel-cache.js';
import { BLOCK_DOT, BLOCK_MAX_ABS, BLOCK_PAIRS, BLOCK_SCALED_SQUARES } from './kernels/reduction.js';

export type ReductionStrategy = 'device' | 'host';

/** Elements each reduction thread sums. */
export const BLOCK = 128;
/** At most this many block results are read back to the host. */
export const HOST_BLOCKS = 1024;

/**
 * nrm2 takes the plain sum of squares when it is finite and at least this large; below it,
 * float32 squares of small elements may have flushed to zero (|x| < 2^-63 squares to below
 * float32's normal range), and the second, scaled pass runs.
 */
const PLAIN_SUM_SQUARES_FLOOR = 2 ** -60;

/** An intermediate kernel output: a texture, or a host array (or its rows) in the host modes. */
type Partial = DeviceBuffer | readonly Float32Array[];

export class Reductions {
  private probed = false;

  constructor(
    private readonly kernels: KernelCache,
    private current: ReductionStrategy,
    private readonly upload: (data: Float32Array) => DeviceBuffer,
  ) {
    if (current !== 'device' && current !== 'host') {
      throw new TypeError(`gpu backend: unknown reduction '${String(current)}'; use 'device' or 'host'`);
    }
  }

  get strategy(): ReductionStrategy {
    return this.current;
  }

  dot(x: DeviceBuffer, y: DeviceBuffer, n: number): number {
    this.probe();
    if (this.current === 'host') {
      const [a, b] = [readBuffer(x, n), readBuffer(y, n)];
      let s = 0;
      let c = 0;
      for (let i = 0; i < n; i++) [s, c] = neumaierAdd(s, c, a[i] * b[i]);
      return s + c;
    }
    return this.compensatedSum('dot', BLOCK_DOT, [x, y], n);
  }

  nrm2(x: DeviceBuffer, n: number): number {
    this.probe();
    if (this.current === 'host') {
      // float64 squares of float32 values neither overflow nor underflow.
      const a = readBuffer(x, n);
      let s = 0;
      for (let i = 0; i < n; i++) s += a[i] * a[i];
      return Math.sqrt(s);
    }
    const plain = this.compensatedSum('dot', BLOCK_DOT, [x, x], n);
    if (Number.isFinite(plain) && plain >= PLAIN_SUM_SQUARES_FLOOR) return Math.sqrt(plain);
    // Squares overflowed float32 or may have underflowed: scale by a power of two near
    // 1 / max|x| (exact in binary floating point) and sum again (the classic BLAS remedy).
    // GLSL's max() may drop a NaN, so the NaN shows in the sums instead: a zero maximum of
    // a vector whose squares did not sum to zero means NaN, and the scaled sum carries it.
    const max = this.maxAbs(x, n);
    if (max === 0) return plain === 0 ? 0 : NaN;
    if (!Number.isFinite(max)) return max;
    const exponent = Math.min(126, Math.max(-126, -Math.ceil(Math.log2(max))));
    const scale = 2 ** exponent;
    return Math.sqrt(this.compensatedSum('scaledSquares', BLOCK_SCALED_SQUARES, [x, scale], n)) / scale;
  }

  /** max |x_i|, NaN if any element is NaN (checked on the host side of the last stage). */
  private maxAbs(x: DeviceBuffer, n: number): number {
    let blocks = Math.ceil(n / BLOCK);
    let partial = this.stage(`maxAbs:${n}:${layoutKey(x)}`, BLOCK_MAX_ABS, [blocks], n, [x]);
    while (blocks > HOST_BLOCKS) {
      const next = Math.ceil(blocks / BLOCK);
      const out = this.stage(`maxAbs:${blocks}:${partialKey(partial)}`, BLOCK_MAX_ABS, [next], blocks, [partial]);
      release(partial);
      partial = out;
      blocks = next;
    }
    const values = readPartial(partial, blocks);
    release(partial);
    let max = 0;
    for (const v of values) {
      if (Number.isNaN(v)) return NaN;
      if (v > max) max = v;
    }
    return max;
  }

  /** Sum of a block kernel's terms over n elements, as described at the top of the file. */
  private compensatedSum(name: string, source: string, args: (DeviceBuffer | number)[], n: number): number {
    let blocks = Math.ceil(n / BLOCK);
    const layouts = args.map((a) => (typeof a === 'number' ? 's' : layoutKey(a))).join(':');
    let pairs = this.stage(`${name}:${n}:${layouts}`, source, [blocks, 2], n, args);
    while (blocks > HOST_BLOCKS) {
      const next = Math.ceil(blocks / BLOCK);
      const out = this.stage(`pairs:${blocks}:${partialKey(pairs)}`, BLOCK_PAIRS, [next, 2], blocks, [pairs]);
      release(pairs);
      pairs = out;
      blocks = next;
    }
    const values = readPartial(pairs, 2 * blocks);
    release(pairs);
    let s = 0;
    let c = 0;
    for (let i = 0; i < blocks; i++) [s, c] = neumaierAdd(s, c, values[i]);
    // The compensation of an infinite sum is Inf - Inf = NaN; the sum itself is the answer.
    if (!Number.isFinite(s)) return s;
    for (let i = blocks; i < 2 * blocks; i++) [s, c] = neumaierAdd(s, c, values[i]);
    return s + c;
  }

  private stage(key: string, source: string, output: number[], n: number, args: unknown[]): Partial {
    return this.kernels.run(key, () => ({ source, output, constants: { n, block: BLOCK } }), args) as Partial;
  }

  /**
   * Checks once that the device keeps the compensation: 1 + 256 * 2^-24 is lost entirely by
   * float32 summation in any order that adds 1 first, and kept exactly by the compensated one.
   * A compiler that reassociates floating point (some do, GLSL gives no guarantee) fails it,
   * and reductions then finish on the host.
   */
  private probe(): void {
    if (this.probed || this.current === 'host') return;
    this.probed = true;
    const n = 2 * BLOCK + 1;
    const x = new Float32Array(n).fill(2 ** -24);
    x[0] = 1;
    const ones = new Float32Array(n).fill(1);
    const [bx, bOnes] = [this.upload(x), this.upload(ones)];
    try {
      const got = this.compensatedSum('dot', BLOCK_DOT, [bx, bOnes], n);
      if (got !== 1 + (n - 1) * 2 ** -24) this.current = 'host';
    } finally {
      releaseBuffer(bx);
      releaseBuffer(bOnes);
    }
  }
}

/** One step of Neumaier's compensated summation in float64: returns the new (sum, compensation). */
function neumaierAdd(s: number, c: number, v: number): [number, number] {
  const t = s + v;
  return [t, Math.abs(s) >= Math.abs(v) ? c + (s - t + v) : c + (v - t + s)];
}

function partialKey(p: Partial): string {
  if (Array.isArray(p)) return `rows${p.length}x${(p as readonly Float32Array[])[0].length}`;
  return layoutKey(p as DeviceBuffer);
}

function readPartial(p: Partial, count: number): Float32Array {
  return isTexture(p as DeviceBuffer) ? readBuffer(p as DeviceBuffer, count) : flattenOutput(p, count);
}

function release(p: Partial): void {
  if (!Array.isArray(p)) releaseBuffer(p as DeviceBuffer);
}
