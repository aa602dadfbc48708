/**
 * The 'auto' preconditioner of a K-FAC system as its factors grow: the setup of the nearest
 * Kronecker product with exact inverses (Cholesky, ~2.3 n^3 flops and n^2 doubles per factor)
 * against the low-rank-plus-diagonal one (rank 64, n^2 k flops), the iterations each gives, and
 * which one 'auto' takes at each size (exact below LARGE_FACTOR_ORDER). The 8B model's 14336
 * factors are beyond this machine's memory for a whole K-FAC merge in float64 (host copies of
 * every factor); their setup is projected from the measured growth and labelled so.
 */
import { createCpuBackend } from '@mats/backend-cpu';
import { KroneckerOperator, LARGE_FACTOR_ORDER, pcg, preconditioner, sumOf, type Backend, type LinearOperator, type PreconditionerName, type Tensor } from '@mats/core';
import { kfacProblem, type KfacProblem } from '../kfac-problem.js';
import { fmt, type Section } from '../report.js';

export interface PreconditionerSectionOptions {
  models: number;
  /** Factor orders whose setup is timed. */
  sizes: number[];
  /** Order at which PCG runs with each preconditioner (iterations to rtol). */
  solveN: number;
  rtol: number;
  log?: (line: string) => void;
}

function build(backend: Backend, problem: KfacProblem): { op: LinearOperator; tensors: Tensor[] } {
  const n = problem.n;
  const tensors: Tensor[] = [];
  const up = (x: Float64Array) => {
    const t = backend.fromArray(x, [n, n]);
    tensors.push(t);
    return t;
  };
  const parts = problem.g.map((g, i) => new KroneckerOperator(up(g), up(problem.a[i]), { psd: true }));
  return { op: sumOf(parts), tensors };
}

function release(backend: Backend, system: { op: LinearOperator; tensors: Tensor[] }): void {
  (system.op as { dispose?: () => void }).dispose?.();
  for (const t of system.tensors) backend.dispose(t);
}

export async function preconditionerSection(options: PreconditionerSectionOptions): Promise<Section> {
  const log = options.log ?? (() => {});
  const backend = createCpuBackend('float64');
  await backend.warmUp();
  const setupRows: string[][] = [];
  const exactTimes: [number, number][] = [];
  const lowTimes: [number, number][] = [];
  for (const n of options.sizes) {
    const times: Record<string, number> = {};
    log(`preconditioner: problem n=${n}`);
    const problem = kfacProblem(options.models, n);
    for (const choice of ['kronecker-nearest', 'kronecker-lowrank'] as const) {
      log(`preconditioner: ${choice} setup n=${n}`);
      const system = build(backend, problem);
      const t0 = performance.now();
      preconditioner(system.op, choice);
      times[choice] = (performance.now() - t0) / 1000;
      release(backend, system);
    }
    exactTimes.push([n, times['kronecker-nearest']]);
    lowTimes.push([n, times['kronecker-lowrank']]);
    setupRows.push([String(n), fmt(times['kronecker-nearest']), fmt(times['kronecker-lowrank']), n >= LARGE_FACTOR_ORDER ? 'low-rank + diagonal' : 'exact']);
  }
  // Projection to 14336 from the two largest measured sizes (log-log slope), for the table only.
  const project = (points: [number, number][], n: number) => {
    if (points.length < 2) return undefined;
    const [[n1, t1], [n2, t2]] = points.slice(-2);
    const slope = Math.log(t2 / t1) / Math.log(n2 / n1);
    return { seconds: t2 * (n / n2) ** slope, slope };
  };
  const exact14 = project(exactTimes, 14336);
  const low14 = project(lowTimes, 14336);
  if (exact14 && low14) {
    setupRows.push(['14336 (projected)', `${fmt(exact14.seconds)} (slope ${fmt(exact14.slope)})`, `${fmt(low14.seconds)} (slope ${fmt(low14.slope)})`, 'low-rank + diagonal']);
  }

  const iterationRows: string[][] = [];
  const n = options.solveN;
  const problem = kfacProblem(options.models, n);
  for (const choice of ['kronecker-nearest', 'kronecker-lowrank', 'jacobi', 'none'] as PreconditionerName[]) {
    log(`preconditioner: pcg with ${choice} n=${n}`);
    const system = build(backend, problem);
    const b = backend.fromArray(problem.w[0], [n, n]);
    const t0 = performance.now();
    const r = pcg(system.op, b, { rtol: options.rtol, preconditioner: choice, maxIterations: 5000 });
    const seconds = (performance.now() - t0) / 1000;
    iterationRows.push([choice, String(r.iterations), fmt(seconds), r.status, r.preconditioner]);
    backend.dispose(r.x);
    backend.dispose(b);
    release(backend, system);
  }
  return {
    title: `preconditioner for large K-FAC factors (${options.models} models)`,
    tables: [
      { header: ['factor order n', "setup: nearest Kronecker, exact inverses (s)", 'setup: rank 64 + diagonal (s)', "'auto' takes"], rows: setupRows },
      { header: [`preconditioner (n = ${n})`, `iterations to rtol ${options.rtol.toExponential(0)}`, 'seconds (setup + solve)', 'status', 'what ran'], rows: iterationRows },
    ],
    notes: [
      `Factors as in the kfac solve (shared part + task part, damping 0.1); setup on a fresh operator, float64, every core. 'auto' uses exact inverses below n = ${LARGE_FACTOR_ORDER} ` +
        '(core LARGE_FACTOR_ORDER) and rank 64 + diagonal for larger factors (a smaller factor of the same layer keeps its exact inverse). ' +
        'The 14336 row is a projection from the two largest measured sizes, not a measurement: an 8-model K-FAC system with 14336-wide factors holds ' +
        '8 x 14336^2 float64 host copies per side (13 GiB), more than this machine can give one process.',
      'The synthetic factors here have flat spectra (a shared Wishart part plus a task part), the hard case for a low-rank approximation; ' +
        'real K-FAC Grams decay faster, so it does better there.',
    ],
    targets: [],
  };
}
