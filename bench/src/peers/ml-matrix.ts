/** ml-matrix's mmul (float64, arrays of rows): the pure-JS baseline most users would reach for. */
import { randomArray } from '@mats/core/testing';
import { Matrix } from 'ml-matrix';
import { timeIt, type TimingOptions } from '../timing.js';

export function mlMatrixMatmulSeconds(n: number, timing: TimingOptions): number {
  const a = new Matrix(n, n);
  const b = new Matrix(n, n);
  const ra = randomArray(n * n, 1);
  const rb = randomArray(n * n, 2);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      a.set(i, j, ra[i * n + j]);
      b.set(i, j, rb[i * n + j]);
    }
  }
  return timeIt(() => a.mmul(b), timing).best;
}
