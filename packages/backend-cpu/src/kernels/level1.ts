/**
 * Level-1 kernels over flat typed arrays. Each is self-contained (see monomorphic.ts) and
 * accumulates reductions in float64 JS numbers, whatever the storage.
 */
type FloatArray = Float64Array | Float32Array;

export function dotKernel(x: FloatArray, y: FloatArray, n: number): number {
  // Four partial sums: breaks the loop-carried dependency, and is a little more accurate.
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += x[i] * y[i];
    s1 += x[i + 1] * y[i + 1];
    s2 += x[i + 2] * y[i + 2];
    s3 += x[i + 3] * y[i + 3];
  }
  for (; i < n; i++) s0 += x[i] * y[i];
  return s0 + s1 + s2 + s3;
}

/** sum_i (x_i / scale)^2; callers pass scale = 1 unless the plain sum over- or underflows. */
export function scaledSumSquaresKernel(x: FloatArray, n: number, scale: number): number {
  const inv = 1 / scale;
  let s0 = 0;
  let s1 = 0;
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    const a = x[i] * inv;
    const b = x[i + 1] * inv;
    s0 += a * a;
    s1 += b * b;
  }
  for (; i < n; i++) {
    const a = x[i] * inv;
    s0 += a * a;
  }
  return s0 + s1;
}

/** max_i |x_i|; NaN if any element is NaN. */
export function maxAbsKernel(x: FloatArray, n: number): number {
  let m = 0;
  for (let i = 0; i < n; i++) {
    const a = Math.abs(x[i]);
    if (a > m || a !== a) m = a;
  }
  return m;
}

/** y <- alpha x + y */
export function axpyKernel(alpha: number, x: FloatArray, y: FloatArray, n: number): void {
  for (let i = 0; i < n; i++) y[i] += alpha * x[i];
}

/** y <- alpha x + beta y */
export function axpbyKernel(alpha: number, x: FloatArray, beta: number, y: FloatArray, n: number): void {
  for (let i = 0; i < n; i++) y[i] = alpha * x[i] + beta * y[i];
}

/** x <- alpha x */
export function scalKernel(alpha: number, x: FloatArray, n: number): void {
  for (let i = 0; i < n; i++) x[i] *= alpha;
}

/** out <- x .* y */
export function mulKernel(x: FloatArray, y: FloatArray, out: FloatArray, n: number): void {
  for (let i = 0; i < n; i++) out[i] = x[i] * y[i];
}

/** out <- x ./ y */
export function divKernel(x: FloatArray, y: FloatArray, out: FloatArray, n: number): void {
  for (let i = 0; i < n; i++) out[i] = x[i] / y[i];
}

/** out <- x + y */
export function addKernel(x: FloatArray, y: FloatArray, out: FloatArray, n: number): void {
  for (let i = 0; i < n; i++) out[i] = x[i] + y[i];
}
