/**
 * mats kfac time to solution: the system sum_i (G_i (x) A_i) x = sum_i (G_i (x) A_i) w_i from
 * the task-arithmetic start, to ||r|| <= 1e-6 ||b||, by
 *   - our PCG with the 'auto' preconditioner (@mats/core pcg; setup included),
 *   - our unpreconditioned CG (the same pcg, preconditioner 'none'),
 *   - numpy running the paper's solver (unpreconditioned CG, bench/python/kfac.py).
 *
 * The PCG and the operators come from @mats/core (branch `core`); until they are on this
 * branch's main the rows say so. They are reached through the small interface below, checked
 * at run time, so this file compiles either way.
 */
import { createCpuBackend } from '@mats/backend-cpu';
import type { Backend, Tensor } from '@mats/core';
import { kfacProblem, writeKfacProblem, type KfacProblem } from '../kfac-problem.js';
import { numpyAvailable, runNumpyScript } from '../peers/numpy.js';
import { fmt, ratio, type Section } from '../report.js';

/** The part of @mats/core's solver API used here (see packages/core/src/solver/pcg-types.ts). */
interface CoreSolverApi {
  KroneckerOperator: new (g: Tensor, a: Tensor, options?: { psd?: boolean; label?: string }) => object;
  sumOf(parts: object[]): object;
  pcg(
    op: object,
    b: Tensor,
    options: { x0?: Tensor; rtol?: number; maxIterations?: number; preconditioner?: string },
  ): { x: Tensor; status: string; iterations: number; residualNorm: number; preconditioner: string };
}

async function coreSolver(): Promise<CoreSolverApi | undefined> {
  const core = (await import('@mats/core')) as unknown as Partial<CoreSolverApi>;
  return typeof core.pcg === 'function' && typeof core.sumOf === 'function' && typeof core.KroneckerOperator === 'function'
    ? (core as CoreSolverApi)
    : undefined;
}

export interface KfacSolveOptions {
  models: number;
  n: number;
  rtol: number;
  repetitions: number;
  log?: (line: string) => void;
}

interface SolveRow {
  solver: string;
  seconds?: number;
  iterations?: number;
  relativeResidual?: number;
  detail: string;
}

function timeOurSolve(api: CoreSolverApi, backend: Backend, problem: KfacProblem, rtol: number, preconditioner: string, repetitions: number): SolveRow {
  const { n, models } = problem;
  let best = Infinity;
  let last: ReturnType<CoreSolverApi['pcg']> | undefined;
  let relativeResidual = NaN;
  for (let r = 0; r < repetitions; r++) {
    // Everything from the statistics to x is timed: operator construction, b, the
    // preconditioner's setup (built on first use), the iterations.
    const t0 = performance.now();
    const parts = problem.g.map((g, i) => new api.KroneckerOperator(backend.fromArray(g, [n, n]), backend.fromArray(problem.a[i], [n, n]), { psd: true }));
    const op = api.sumOf(parts);
    const b = backend.zeros([n, n]);
    const term = backend.zeros([n, n]);
    const x0 = backend.zeros([n, n]);
    for (let i = 0; i < models; i++) {
      const w = backend.fromArray(problem.w[i], [n, n]);
      (parts[i] as { apply(x: Tensor, out: Tensor): void }).apply(w, term);
      backend.axpy(1, term, b);
      backend.axpy(1 / models, w, x0);
      backend.dispose(w);
    }
    last = api.pcg(op, b, { x0, rtol, preconditioner, maxIterations: 10_000 });
    best = Math.min(best, (performance.now() - t0) / 1000);
    relativeResidual = last.residualNorm / backend.nrm2(b);
    for (const t of [b, term, x0, last.x]) backend.dispose(t);
  }
  return {
    solver: `ours: pcg, preconditioner '${preconditioner}' (${last?.preconditioner}), cpu ${backend.mode} ${backend.dtype}`,
    seconds: best,
    iterations: last?.iterations,
    relativeResidual,
    detail: last?.status ?? '',
  };
}

export async function kfacSolveSection(options: KfacSolveOptions): Promise<Section> {
  const log = options.log ?? (() => {});
  const { models, n, rtol } = options;
  const problem = kfacProblem(models, n);
  const rows: SolveRow[] = [];
  const notes: string[] = [];

  const api = await coreSolver();
  if (api) {
    const backend = createCpuBackend('float64');
    await backend.warmUp();
    for (const preconditioner of ['auto', 'none']) {
      log(`kfac solve: ours, preconditioner ${preconditioner}`);
      rows.push(timeOurSolve(api, backend, problem, rtol, preconditioner, options.repetitions));
    }
  } else {
    const pending = 'pending: @mats/core has no pcg / KroneckerOperator / sumOf on this branch yet (branch `core`)';
    rows.push({ solver: "ours: pcg, preconditioner 'auto'", detail: pending }, { solver: "ours: pcg, preconditioner 'none' (plain CG)", detail: pending });
  }

  const numpy = numpyAvailable();
  let numpySeconds: number | undefined;
  if ('skipped' in numpy) {
    rows.push({ solver: "numpy: the paper's solver (unpreconditioned CG)", detail: `skipped: ${numpy.skipped}` });
  } else {
    log('kfac solve: numpy');
    const files = writeKfacProblem(problem);
    try {
      const out = runNumpyScript<{ seconds: number; iterations: number; relativeResidual: number }>('kfac.py', [files.dir, 'solve', String(rtol), String(options.repetitions)]);
      numpySeconds = out.seconds;
      rows.push({
        solver: `numpy ${numpy.version}: the paper's solver (unpreconditioned CG), float64`,
        seconds: out.seconds,
        iterations: out.iterations,
        relativeResidual: out.relativeResidual,
        detail: 'converged',
      });
    } finally {
      files.remove();
    }
  }
  const pcgSeconds = rows.find((r) => r.solver.includes("'auto'"))?.seconds;
  notes.push(
    `${models} models, [${n}, ${n}] factors (shared part + task part, damping 0.1), start x0 = mean_i w_i, ` +
      `stop at ||b - A x|| <= ${rtol.toExponential(0)} ||b||; best of ${options.repetitions} solves. Both times include ` +
      `forming b and x0 from the statistics; ours also building the operator and the preconditioner.`,
  );
  return {
    title: `mats kfac: time to rtol ${rtol.toExponential(0)}`,
    tables: [
      {
        header: ['solver', 'seconds', 'iterations', '||b - A x|| / ||b||', 'vs numpy', 'status'],
        rows: rows.map((r) => [
          r.solver,
          fmt(r.seconds),
          r.iterations === undefined ? '-' : String(r.iterations),
          r.relativeResidual === undefined ? '-' : r.relativeResidual.toExponential(1),
          r.seconds === undefined || numpySeconds === undefined ? '-' : `${fmt(ratio(r.seconds, numpySeconds))}x`,
          r.detail,
        ]),
      },
    ],
    notes,
    targets: [
      {
        target: "mats kfac time to solution: our PCG ('auto') vs numpy's paper solver",
        ratio: ratio(pcgSeconds, numpySeconds),
        bound: 1.5,
        direction: 'atMost',
        detail: api ? 'kfac solve table' : 'waits on @mats/core pcg (branch core)',
      },
    ],
  };
}
