import { createCpuBackend } from '@mats/backend-cpu';
import { KroneckerOperator, solve, sumOf, type Tensor } from '@mats/core';

/**
 * Merges one [out, in] weight of three fine-tuned models in their K-FAC subspaces:
 * (sum_i G_i (x) A_i) W = sum_i G_i W_i A_i.
 */
export function kfacMerge(tasks: { g: Float64Array; a: Float64Array; w: Float64Array }[], out: number, inp: number) {
  const backend = createCpuBackend('float64');
  const terms = tasks.map(
    ({ g, a }, i) =>
      new KroneckerOperator(backend.fromArray(g, [out, out]), backend.fromArray(a, [inp, inp]), { psd: true, label: `task ${i}` }),
  );
  const rhs: Tensor = backend.zeros([out, inp]);
  const term = backend.zeros([out, inp]);
  terms.forEach((c, i) => {
    c.apply(backend.fromArray(tasks[i].w, [out, inp]), term); // G_i W_i A_i
    backend.axpy(1, term, rhs);
  });
  const system = sumOf(terms); // a Sum of Kroneckers: no closed form for three tasks

  const merged = solve(system, rhs, { rtol: 1e-8 }); // PCG, Kronecker preconditioner
  const paper = solve(system, rhs, { reference: true, maxIterations: 100 }); // the paper's solver
  return { merged, paper };
}
