/**
 * Plain, obviously correct references for the statistics tests: one loop per formula of
 * METHODS.md "Statistics", written from the definitions, no factored shortcuts.
 */

/** (1/T) sum_t x_t x_t^T over rows of x [T, dim]. */
export function referenceGram(x: ArrayLike<number>, rows: number, dim: number): Float64Array {
  const out = new Float64Array(dim * dim);
  for (let t = 0; t < rows; t++) {
    for (let i = 0; i < dim; i++) for (let j = 0; j < dim; j++) out[i * dim + j] += x[t * dim + i] * x[t * dim + j];
  }
  return out.map((v) => v / rows);
}

/** (1/T) sum_t x_t over rows of x [T, dim]. */
export function referenceColumnMeans(x: ArrayLike<number>, rows: number, dim: number): Float64Array {
  const out = new Float64Array(dim);
  for (let t = 0; t < rows; t++) for (let j = 0; j < dim; j++) out[j] += x[t * dim + j];
  return out.map((v) => v / rows);
}

/**
 * Per-example gradients of W [out, in] for a linear layer: dW_n = sum_{t in n} g_t a_t^T,
 * returned as [examples, out * in].
 */
export function referencePerExampleWeightGradients(
  inputs: ArrayLike<number>,
  grads: ArrayLike<number>,
  inFeatures: number,
  outFeatures: number,
  tokensPerExample: readonly number[],
): Float64Array {
  const out = new Float64Array(tokensPerExample.length * outFeatures * inFeatures);
  let row = 0;
  tokensPerExample.forEach((length, e) => {
    for (let t = 0; t < length; t++, row++) {
      for (let o = 0; o < outFeatures; o++) {
        for (let i = 0; i < inFeatures; i++) {
          out[(e * outFeatures + o) * inFeatures + i] += grads[row * outFeatures + o] * inputs[row * inFeatures + i];
        }
      }
    }
  });
  return out;
}

/** (1/N) sum_n g_n .* g_n over rows of per-example gradients [N, size]. */
export function referenceDiagonalFisher(gradients: ArrayLike<number>, examples: number, size: number): Float64Array {
  const out = new Float64Array(size);
  for (let n = 0; n < examples; n++) for (let i = 0; i < size; i++) out[i] += gradients[n * size + i] ** 2;
  return out.map((v) => v / examples);
}

/** Per-example sums of consecutive rows: [T, width] -> [examples, width]. */
export function referenceSegmentSums(rows: ArrayLike<number>, width: number, tokensPerExample: readonly number[]): Float64Array {
  const out = new Float64Array(tokensPerExample.length * width);
  let row = 0;
  tokensPerExample.forEach((length, e) => {
    for (let t = 0; t < length; t++, row++) for (let j = 0; j < width; j++) out[e * width + j] += rows[row * width + j];
  });
  return out;
}

/** Largest magnitude, for scaling absolute tolerances. */
export function maxAbs(x: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]));
  return m;
}
