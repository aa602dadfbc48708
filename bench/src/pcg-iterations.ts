/**
 * PCG iterations on a K-FAC merge system, per preconditioner: a Sum of M Kroneckers
 * G_i (x) A_i on an [n, n] block (DESIGN.md §4, issue 3). Each factor is a shared SPD part
 * plus rho times a task-specific SPD part ("tasks that differ moderately"); the second
 * scenario also gives each task's G and A their own scale, log-uniform in [0.1, 10], as the
 * statistics of real tasks differ in magnitude. The right-hand side is sum_i C_i theta_i
 * with random theta_i, as in a merge.
 *
 * `npm run bench:pcg [-- --n 256 --tasks 8 --rho 0.3 --rtol 1e-8]`
 */
import { createCpuBackend } from '@mats/backend-cpu';
import { KroneckerOperator, pcg, preconditioner, sumOf, type Backend, type LinearOperator, type PreconditionerName, type Tensor } from '@mats/core';
import { mulberry32, randomArray, randomSpd } from '@mats/core/testing';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const n = option('n', 256);
const tasks = option('tasks', 8);
const rho = option('rho', 0.3);
const rtol = option('rtol', 1e-8);
const PRECONDITIONERS: PreconditionerName[] = ['none', 'jacobi', 'kronecker-sum', 'kronecker-nearest'];

/** shared + rho * task part, times scale. */
function factor(shared: Float64Array, seed: number, scale: number): Float64Array {
  const own = randomSpd(n, seed);
  return shared.map((v, i) => scale * (v + rho * own[i]));
}

function buildSystem(backend: Backend, scaled: boolean): { A: LinearOperator; b: Tensor } {
  const next = mulberry32(99);
  const logUniform = () => (scaled ? 10 ** (2 * next() - 1) : 1);
  const sharedG = randomSpd(n, 1);
  const sharedA = randomSpd(n, 2);
  const parts = Array.from({ length: tasks }, (_, i) => {
    const g = backend.fromArray(factor(sharedG, 10 + i, logUniform()), [n, n]);
    const a = backend.fromArray(factor(sharedA, 100 + i, logUniform()), [n, n]);
    return new KroneckerOperator(g, a, { psd: true, label: `task ${i}` });
  });
  // b = sum_i C_i theta_i.
  const b = backend.zeros([n, n]);
  const term = backend.zeros([n, n]);
  parts.forEach((part, i) => {
    part.apply(backend.fromArray(randomArray(n * n, 1000 + i), [n, n]), term);
    backend.axpy(1, term, b);
  });
  return { A: sumOf(parts), b };
}

const seconds = (t0: number) => (performance.now() - t0) / 1000;

console.log(
  `PCG to rtol ${rtol} on a Sum of ${tasks} Kroneckers with ${n} x ${n} factors (shared part + ${rho} x task part), ` +
    `cpu float64 backend, node ${process.version}; timings from a shared, loaded machine`,
);
console.log('| scenario | preconditioner | iterations | status | ||r|| / ||b|| | setup s | solve s | s / iteration |');
console.log('|---|---|---|---|---|---|---|---|');
const backend = createCpuBackend('float64');
for (const scaled of [false, true]) {
  const { A, b } = buildSystem(backend, scaled);
  const bNorm = backend.nrm2(b);
  for (const name of PRECONDITIONERS) {
    const t0 = performance.now();
    preconditioner(A, name); // built once and cached beside A; pcg reuses it
    const setup = seconds(t0);
    const t1 = performance.now();
    const result = pcg(A, b, { rtol, preconditioner: name, maxIterations: 5000 });
    const solve = seconds(t1);
    console.log(
      `| ${scaled ? 'task scales in [0.1, 10]' : 'equal scales'} | ${name} | ${result.iterations} | ${result.status} | ` +
        `${(result.residualNorm / bNorm).toExponential(1)} | ${setup.toFixed(2)} | ${solve.toFixed(1)} | ` +
        `${(solve / Math.max(1, result.iterations)).toFixed(3)} |`,
    );
    backend.dispose(result.x);
  }
}
