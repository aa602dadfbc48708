/**
 * The closed forms of sums whose parts share a structure (DESIGN.md §4):
 * a Sum of Diagonals (and identities) is the Diagonal of the summed entries, solved
 * elementwise (Fisher merging); a Sum of Grams is the Gram of the summed factors, solved by
 * one Cholesky (RegMean); a Sum of two Kroneckers is solved by simultaneous diagonalisation.
 */
import { DiagonalOperator } from '../operators/diagonal.js';
import type { GramOperator } from '../operators/gram.js';
import type { HostSquare } from '../operators/host-matrix.js';
import type { KroneckerOperator } from '../operators/kronecker.js';
import type { SumOperator } from '../operators/sum.js';
import { diagonalInverse, gramInverse, type ExactInverse } from './exact-inverses.js';
import { twoKroneckerInverse } from './two-kronecker.js';

/** sum_i d_i over Diagonal parts, 1 for each Identity part. */
export function summedDiagonal(sum: SumOperator): Float64Array {
  const n = sum.shape.reduce((a, b) => a * b, 1);
  const d = new Float64Array(n);
  for (const p of sum.parts) {
    if (p instanceof DiagonalOperator) for (let i = 0; i < n; i++) d[i] += p.hostValues[i];
    else for (let i = 0; i < n; i++) d[i] += 1;
  }
  return d;
}

/** sum_i A_i over the Gram parts. */
export function summedGram(sum: SumOperator): HostSquare {
  const parts = sum.parts as readonly GramOperator[];
  const n = parts[0].hostA.n;
  const data = new Float64Array(n * n);
  for (const p of parts) for (let i = 0; i < data.length; i++) data[i] += p.hostA.data[i];
  return { data, n };
}

export function sumOfDiagonalsInverse(sum: SumOperator): ExactInverse {
  return diagonalInverse(sum.backend!, summedDiagonal(sum), sum.shape);
}

export function sumOfGramsInverse(sum: SumOperator): ExactInverse {
  return gramInverse(sum.backend!, summedGram(sum), sum.shape[0], sum.tags.psd);
}

export function sumOfTwoKroneckersInverse(sum: SumOperator): ExactInverse {
  return twoKroneckerInverse(sum.parts[0] as KroneckerOperator, sum.parts[1] as KroneckerOperator);
}

