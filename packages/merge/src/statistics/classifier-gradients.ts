import { countRows, type FloatBatch } from './float-batch.js';
import type { SeededRandom } from './seeded-random.js';

/**
 * Softmax probabilities of each row of logits [T, classes], computed stably (max subtracted).
 */
export function softmaxRows(logits: FloatBatch, classes: number): Float64Array {
  const rows = countRows(logits, classes, 'softmaxRows: logits');
  const out = new Float64Array(rows * classes);
  for (let r = 0; r < rows; r++) {
    const offset = r * classes;
    let max = -Infinity;
    for (let c = 0; c < classes; c++) max = Math.max(max, logits[offset + c]);
    let sum = 0;
    for (let c = 0; c < classes; c++) {
      const e = Math.exp(logits[offset + c] - max);
      out[offset + c] = e;
      sum += e;
    }
    for (let c = 0; c < classes; c++) out[offset + c] /= sum;
  }
  return out;
}

/**
 * Output gradients of a softmax classifier for statistics: g_t = d log p(y_t | z_t) / d z_t
 * = onehot(y_t) - softmax(z_t), per row of logits z [T, classes]. The sign is the
 * log-likelihood's (DESIGN.md §3); a Fisher or Gram does not depend on it.
 * labels [T]: the gold labels (empirical Fisher) or sampleLabels(...) ("true" Fisher).
 */
export function logLikelihoodGradients(logits: FloatBatch, classes: number, labels: ArrayLike<number>): Float64Array {
  const g = softmaxRows(logits, classes);
  const rows = g.length / classes;
  if (labels.length !== rows) throw new RangeError(`logLikelihoodGradients: ${labels.length} labels for ${rows} rows of logits`);
  for (let r = 0; r < rows; r++) {
    const y = labels[r];
    if (!Number.isInteger(y) || y < 0 || y >= classes) {
      throw new RangeError(`logLikelihoodGradients: label ${y} of row ${r} is not a class in [0, ${classes})`);
    }
    const offset = r * classes;
    for (let c = 0; c < classes; c++) g[offset + c] = -g[offset + c];
    g[offset + y] += 1;
  }
  return g;
}

/**
 * One label per row drawn from the model's own predictive distribution softmax(z_t): the
 * labels of the "true" Fisher (Fisher merging, Matena and Raffel 2022; the MaTS reference code
 * samples once per example too). Seeded, so the statistics are reproducible.
 */
export function sampleLabels(logits: FloatBatch, classes: number, random: SeededRandom): Int32Array {
  const p = softmaxRows(logits, classes);
  const rows = p.length / classes;
  const labels = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    const offset = r * classes;
    const u = random.uniform();
    let cumulative = 0;
    let label = classes - 1; // rounding can leave the cumulative sum a hair below 1
    for (let c = 0; c < classes; c++) {
      cumulative += p[offset + c];
      if (u < cumulative) {
        label = c;
        break;
      }
    }
    labels[r] = label;
  }
  return labels;
}
