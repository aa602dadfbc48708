/**
 * A small seeded generator for test data. fast-check picks the seed (and shrinks it); bulk
 * values come from here, because generating 60,000 floats through fast-check is slow.
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n values uniform in [-1, 1). */
export function randomArray(n: number, seed: number): Float64Array {
  const next = mulberry32(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = 2 * next() - 1;
  return out;
}

/** A random symmetric positive definite [n, n] matrix: R R^T / n + shift I. */
export function randomSpd(n: number, seed: number, shift = 0.1): Float64Array {
  const r = randomArray(n * n, seed);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let p = 0; p < n; p++) s += r[i * n + p] * r[j * n + p];
      a[i * n + j] = a[j * n + i] = s / n;
    }
    a[i * n + i] += shift;
  }
  return a;
}
