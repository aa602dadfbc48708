/**
 * Elementwise kernels and reductions over long contiguous arrays in the kernel memory, split
 * into fixed blocks that threads claim from the counter (as the gemms do): the CPU backend's
 * level-1 operations on tensors that live in the kernel memory, and the merge's streaming
 * loops (task arithmetic, DARE's drop). Memory-bound: each pass reads and writes every
 * element once, 16 bytes at a time.
 *
 * Parameters come in a block of f64 words at `params` (worker threads receive only i32
 * arguments): addresses and counts are exact in an f64. Reductions write one f64 partial per
 * block to `partials`; the caller adds them in block order, so a result does not depend on how
 * many threads ran.
 */

/** Elements per claimed block (a multiple of every vector width). */
export const BLOCK: i32 = 16384;

// @ts-ignore: decorator
@inline
function param(params: usize, i: i32): f64 {
  return load<f64>(params + (<usize>i << 3));
}

// @ts-ignore: decorator
@inline
function address(params: usize, i: i32): usize {
  return <usize>load<f64>(params + (<usize>i << 3));
}

/** The two f64x2 halves of the vector at p: one f64x2, or an f32x4 promoted. */
// @ts-ignore: decorator
@inline
function loadLow<T>(p: usize): v128 {
  if (sizeof<T>() == 8) return v128.load(p);
  return f64x2.promote_low_f32x4(v128.load(p));
}

// @ts-ignore: decorator
@inline
function loadHigh<T>(p: usize): v128 {
  if (sizeof<T>() == 8) return v128.load(p, 16);
  const v = v128.load(p);
  return f64x2.promote_low_f32x4(v128.shuffle<i32>(v, v, 2, 3, 0, 1));
}

/** Stores two f64x2 halves at p (as f64, or rounded to an f32x4). */
// @ts-ignore: decorator
@inline
function storePair<T>(p: usize, lo: v128, hi: v128): void {
  if (sizeof<T>() == 8) {
    v128.store(p, lo);
    v128.store(p, hi, 16);
  } else {
    const a = f32x4.demote_f64x2_zero(lo);
    const b = f32x4.demote_f64x2_zero(hi);
    v128.store(p, v128.shuffle<i32>(a, b, 0, 1, 4, 5));
  }
}

/** Elements per step of the SIMD loops: 4 (two f64x2, or one f32x4 seen as two halves). */
const STEP: i32 = 4;

/**
 * op = 0: y <- alpha x + y (axpy)          op = 1: y <- alpha x + beta y (axpby, beta != 0)
 * op = 2: x <- alpha x (scal; x at y)       op = 3: out <- x .* y
 * op = 4: out <- x ./ y                    op = 5: out <- x + y
 * params: [op, n, x, y, out, alpha, beta]. Arithmetic in f64, rounded once to T.
 */
// @ts-ignore: decorator
@inline
export function mapClaimT<T>(counter: usize, params: usize): i32 {
  const op = <i32>param(params, 0);
  const n = <i32>param(params, 1);
  const x = address(params, 2);
  const y = address(params, 3);
  const out = address(params, 4);
  const alpha = param(params, 5);
  const beta = param(params, 6);
  const va = f64x2.splat(alpha);
  const vb = f64x2.splat(beta);
  const s = <usize>sizeof<T>();
  const blocks = (n + BLOCK - 1) / BLOCK;
  let done = 0;
  for (;;) {
    const block = atomic.add<i32>(counter, 1);
    if (block >= blocks) break;
    const j0 = block * BLOCK;
    const j1 = min(n, j0 + BLOCK);
    let j = j0;
    for (; j + STEP <= j1; j += STEP) {
      const o = <usize>j * s;
      let lo: v128;
      let hi: v128;
      if (op == 0) {
        lo = f64x2.add(f64x2.mul(va, loadLow<T>(x + o)), loadLow<T>(y + o));
        hi = f64x2.add(f64x2.mul(va, loadHigh<T>(x + o)), loadHigh<T>(y + o));
        storePair<T>(y + o, lo, hi);
      } else if (op == 1) {
        lo = f64x2.add(f64x2.mul(va, loadLow<T>(x + o)), f64x2.mul(vb, loadLow<T>(y + o)));
        hi = f64x2.add(f64x2.mul(va, loadHigh<T>(x + o)), f64x2.mul(vb, loadHigh<T>(y + o)));
        storePair<T>(y + o, lo, hi);
      } else if (op == 2) {
        storePair<T>(y + o, f64x2.mul(va, loadLow<T>(y + o)), f64x2.mul(va, loadHigh<T>(y + o)));
      } else if (op == 3) {
        storePair<T>(out + o, f64x2.mul(loadLow<T>(x + o), loadLow<T>(y + o)), f64x2.mul(loadHigh<T>(x + o), loadHigh<T>(y + o)));
      } else if (op == 4) {
        storePair<T>(out + o, f64x2.div(loadLow<T>(x + o), loadLow<T>(y + o)), f64x2.div(loadHigh<T>(x + o), loadHigh<T>(y + o)));
      } else {
        storePair<T>(out + o, f64x2.add(loadLow<T>(x + o), loadLow<T>(y + o)), f64x2.add(loadHigh<T>(x + o), loadHigh<T>(y + o)));
      }
    }
    for (; j < j1; j++) {
      const o = <usize>j * s;
      const xv = <f64>load<T>(x + o);
      const yv = <f64>load<T>(y + o);
      if (op == 0) store<T>(y + o, <T>(alpha * xv + yv));
      else if (op == 1) store<T>(y + o, <T>(alpha * xv + beta * yv));
      else if (op == 2) store<T>(y + o, <T>(alpha * yv));
      else if (op == 3) store<T>(out + o, <T>(xv * yv));
      else if (op == 4) store<T>(out + o, <T>(xv / yv));
      else store<T>(out + o, <T>(xv + yv));
    }
    done++;
  }
  return done;
}

/**
 * Per-block partial results (f64, at partials + 8 block), accumulated in f64 whatever T:
 * op = 0: sum x_i y_i (dot)   op = 1: sum (x_i / scale)^2 (nrm2; scale at params[4])
 * op = 2: max |x_i| (NaN if any is NaN).  params: [op, n, x, y, scale].
 */
// @ts-ignore: decorator
@inline
export function reduceClaimT<T>(counter: usize, params: usize, partials: usize): i32 {
  const op = <i32>param(params, 0);
  const n = <i32>param(params, 1);
  const x = address(params, 2);
  const y = address(params, 3);
  const inv = 1 / param(params, 4);
  const vinv = f64x2.splat(inv);
  const s = <usize>sizeof<T>();
  const blocks = (n + BLOCK - 1) / BLOCK;
  let done = 0;
  for (;;) {
    const block = atomic.add<i32>(counter, 1);
    if (block >= blocks) break;
    const j0 = block * BLOCK;
    const j1 = min(n, j0 + BLOCK);
    let a0 = f64x2.splat(0);
    let a1 = f64x2.splat(0);
    let j = j0;
    let result: f64 = 0;
    if (op == 2) {
      let nan = false;
      let m: f64 = 0;
      for (; j < j1; j++) {
        const v = Math.abs(<f64>load<T>(x + <usize>j * s));
        if (v > m) m = v;
        if (v != v) nan = true;
      }
      result = nan ? NaN : m;
    } else {
      for (; j + STEP <= j1; j += STEP) {
        const o = <usize>j * s;
        if (op == 0) {
          a0 = f64x2.add(a0, f64x2.mul(loadLow<T>(x + o), loadLow<T>(y + o)));
          a1 = f64x2.add(a1, f64x2.mul(loadHigh<T>(x + o), loadHigh<T>(y + o)));
        } else {
          const l = f64x2.mul(loadLow<T>(x + o), vinv);
          const h = f64x2.mul(loadHigh<T>(x + o), vinv);
          a0 = f64x2.add(a0, f64x2.mul(l, l));
          a1 = f64x2.add(a1, f64x2.mul(h, h));
        }
      }
      const a = f64x2.add(a0, a1);
      result = f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1);
      for (; j < j1; j++) {
        const xv = <f64>load<T>(x + <usize>j * s);
        if (op == 0) result += xv * <f64>load<T>(y + <usize>j * s);
        else result += (xv * inv) * (xv * inv);
      }
    }
    store<f64>(partials + (<usize>block << 3), result);
    done++;
  }
  return done;
}

/**
 * Task arithmetic, fused: out_j = base_j + lambda sum_i w_i d_ij, d_ij = x_ij - base_j (mode 0)
 * or x_ij itself (mode 1: x_i are task vectors), in f64, rounded once to T (the merge's
 * accumulateDifference / accumulateScaled + addScaledToBase in one pass, same order, so the
 * same result). params: [n, lambda, base, out, count, mode, (x_i, w_i) x count].
 */
// @ts-ignore: decorator
@inline
export function taskArithmeticClaimT<T>(counter: usize, params: usize): i32 {
  const n = <i32>param(params, 0);
  const lambda = f64x2.splat(param(params, 1));
  const base = address(params, 2);
  const out = address(params, 3);
  const count = <i32>param(params, 4);
  const vectors = <i32>param(params, 5) == 1;
  const zero = f64x2.splat(0);
  const s = <usize>sizeof<T>();
  const blocks = (n + BLOCK - 1) / BLOCK;
  let done = 0;
  for (;;) {
    const block = atomic.add<i32>(counter, 1);
    if (block >= blocks) break;
    const j0 = block * BLOCK;
    const j1 = min(n, j0 + BLOCK);
    let j = j0;
    for (; j + STEP <= j1; j += STEP) {
      const o = <usize>j * s;
      const bl = loadLow<T>(base + o);
      const bh = loadHigh<T>(base + o);
      // The subtrahend: base itself, or zero for task vectors.
      const dl = vectors ? zero : bl;
      const dh = vectors ? zero : bh;
      let sl = f64x2.splat(0);
      let sh = f64x2.splat(0);
      for (let i = 0; i < count; i++) {
        const xi = address(params, 6 + 2 * i);
        const w = f64x2.splat(param(params, 7 + 2 * i));
        sl = f64x2.add(sl, f64x2.mul(w, f64x2.sub(loadLow<T>(xi + o), dl)));
        sh = f64x2.add(sh, f64x2.mul(w, f64x2.sub(loadHigh<T>(xi + o), dh)));
      }
      storePair<T>(out + o, f64x2.add(bl, f64x2.mul(lambda, sl)), f64x2.add(bh, f64x2.mul(lambda, sh)));
    }
    for (; j < j1; j++) {
      const o = <usize>j * s;
      const b = <f64>load<T>(base + o);
      const d = vectors ? 0 : b;
      let sum: f64 = 0;
      for (let i = 0; i < count; i++) sum += param(params, 7 + 2 * i) * (<f64>load<T>(address(params, 6 + 2 * i) + o) - d);
      store<T>(out + o, <T>(b + param(params, 1) * sum));
    }
    done++;
  }
  return done;
}

/** Wellons' lowbias32 on four lanes (dare-mask.ts's mix32). */
// @ts-ignore: decorator
@inline
function mix32x4(x: v128): v128 {
  x = v128.xor(x, i32x4.shr_u(x, 16));
  x = i32x4.mul(x, i32x4.splat(0x7feb352d));
  x = v128.xor(x, i32x4.shr_u(x, 15));
  x = i32x4.mul(x, i32x4.splat(<i32>0x846ca68b));
  return v128.xor(x, i32x4.shr_u(x, 16));
}

// @ts-ignore: decorator
@inline
function mix32(x: u32): u32 {
  x ^= x >>> 16;
  x *= 0x7feb352d;
  x ^= x >>> 15;
  x *= 0x846ca68b;
  return x ^ (x >>> 16);
}

/**
 * DARE's drop on a task vector, fused with its difference: tau_j = keep_j ? (x_j - base_j)
 * * scale : 0, keep_j iff mix32(mix32((offset + j) ^ key) + key) >= cut (dare-mask.ts, the same
 * draws bit for bit). Counts the dropped entries into the i32 at `dropped` (atomically).
 * params: [n, offset, key, cut (as an integer: drop when u < cut), scale, x, base, tau, dropped].
 */
// @ts-ignore: decorator
@inline
export function dareClaimT<T>(counter: usize, params: usize): i32 {
  const n = <i32>param(params, 0);
  const offset = <u32>param(params, 1);
  const key = <u32>param(params, 2);
  const cutWide = param(params, 3);
  const scale = param(params, 4);
  const x = address(params, 5);
  const base = address(params, 6);
  const tau = address(params, 7);
  const dropped = address(params, 8);
  // u < cut for u in [0, 2^32): cut >= 2^32 drops everything.
  const dropAll = cutWide >= 4294967296.0;
  const cut = <u32>cutWide;
  const vcut = i32x4.splat(<i32>cut);
  const vkey = i32x4.splat(<i32>key);
  const vscale = f64x2.splat(scale);
  const zero = f64x2.splat(0);
  const s = <usize>sizeof<T>();
  const blocks = (n + BLOCK - 1) / BLOCK;
  let done = 0;
  let drops = 0;
  for (;;) {
    const block = atomic.add<i32>(counter, 1);
    if (block >= blocks) break;
    const j0 = block * BLOCK;
    const j1 = min(n, j0 + BLOCK);
    let j = j0;
    for (; j + STEP <= j1; j += STEP) {
      const o = <usize>j * s;
      const index = i32x4.add(i32x4.splat(<i32>(offset + <u32>j)), i32x4(0, 1, 2, 3));
      const u = mix32x4(i32x4.add(mix32x4(v128.xor(index, vkey)), vkey));
      // keep = u >= cut (unsigned); lanes are all ones where kept.
      const keep = dropAll ? i32x4.splat(0) : i32x4.ge_u(u, vcut);
      const keepLo = i64x2.extend_low_i32x4_s(keep);
      const keepHi = i64x2.extend_high_i32x4_s(keep);
      // The difference rounded to T first, then scaled in f64 and rounded again: what the
      // TypeScript path does with a T array (bit for bit).
      let lo: v128;
      let hi: v128;
      if (sizeof<T>() == 8) {
        lo = f64x2.mul(f64x2.sub(v128.load(x + o), v128.load(base + o)), vscale);
        hi = f64x2.mul(f64x2.sub(v128.load(x + o, 16), v128.load(base + o, 16)), vscale);
      } else {
        const d = f32x4.sub(v128.load(x + o), v128.load(base + o));
        lo = f64x2.mul(f64x2.promote_low_f32x4(d), vscale);
        hi = f64x2.mul(f64x2.promote_low_f32x4(v128.shuffle<i32>(d, d, 2, 3, 0, 1)), vscale);
      }
      storePair<T>(tau + o, v128.bitselect(lo, zero, keepLo), v128.bitselect(hi, zero, keepHi));
      drops += 4 + i32x4.extract_lane(keep, 0) + i32x4.extract_lane(keep, 1) + i32x4.extract_lane(keep, 2) + i32x4.extract_lane(keep, 3);
    }
    for (; j < j1; j++) {
      const o = <usize>j * s;
      const u = mix32(mix32((offset + <u32>j) ^ key) + key);
      if (dropAll || u < cut) {
        store<T>(tau + o, <T>0);
        drops++;
      } else {
        store<T>(tau + o, <T>(<f64>(load<T>(x + o) - load<T>(base + o)) * scale));
      }
    }
    done++;
  }
  atomic.add<i32>(dropped, drops);
  return done;
}
