/**
 * mats kfac time to solution: the system sum_i (G_i (x) A_i) x = sum_i (G_i (x) A_i) w_i from
 * the task-arithmetic start, to ||b - A x|| <= rtol ||b||, by
 *   - our PCG with the 'auto' preconditioner (setup included),
 *   - our unpreconditioned CG (the same pcg, preconditioner 'none'),
 *   - our mixed-precision PCG (float32 products inside float64 refinement; --only mixed-precision),
 *   - numpy running the paper's solver (unpreconditioned CG, bench/python/kfac.py),
 * plus the setup of the 'auto' preconditioner alone, on a fresh operator.
 */
import { createCpuBackend } from '@mats/backend-cpu';
import { disposeOperator, KroneckerOperator, pcg, pcgMixedPrecision, preconditioner, sumOf, type Backend, type LinearOperator, type Tensor } from '@mats/core';
import type { BenchBackend } from '../backends.js';
import { kfacProblem, writeKfacProblem, type KfacProblem } from '../kfac-problem.js';
import { describeNumpy, numpyAvailable, runNumpyScript } from '../peers/numpy.js';
import { fmt, ratio, type Section, type TargetCheck } from '../report.js';

export interface KfacSolveOptions {
  /** Section title (default: mats kfac: time to rtol). */
  title?: string;
  models: number;
  sizes: number[];
  rtol: number;
  repetitions: number;
  /** Rows to run: the float64 solvers, and/or the mixed-precision one. */
  rows: ('float64' | 'mixed')[];
  /** Targets: time vs numpy (n -> bound), setup share at n. */
  timeTargets: Map<number, number>;
  setupTargetN?: number;
  others?: BenchBackend[];
  log?: (line: string) => void;
}

interface SolveRow {
  solver: string;
  seconds?: number;
  iterations?: string;
  relativeResidual?: number;
  detail: string;
}

type Solver = 'pcg' | 'mixed';

/** numpy's solves, shared by the float64 and mixed-precision sections of one run. */
const numpyRuns = new Map<string, { seconds: number; iterations: number; relativeResidual: number }>();

/** The operator and right-hand side from the statistics, as a merge builds them. */
function buildSystem(backend: Backend, problem: KfacProblem): { op: LinearOperator; b: Tensor; x0: Tensor; release: () => void } {
  const { n, models } = problem;
  const uploads: Tensor[] = [];
  // As the merge does (methods/task-system.ts): fromHost keeps the host factors instead of
  // reading the uploads back.
  const parts = problem.g.map((g, i) => {
    const part = KroneckerOperator.fromHost(backend, g, problem.a[i], { psd: true });
    uploads.push(part.g, part.a);
    return part;
  });
  const op = sumOf(parts);
  const b = backend.zeros([n, n]);
  const term = backend.zeros([n, n]);
  const x0 = backend.zeros([n, n]);
  for (let i = 0; i < models; i++) {
    const w = backend.fromArray(problem.w[i], [n, n]);
    parts[i].apply(w, term);
    backend.axpy(1, term, b);
    backend.axpy(1 / models, w, x0);
    backend.dispose(w);
  }
  backend.dispose(term);
  return {
    op,
    b,
    x0,
    release: () => {
      // As the merge does: the operator's scratch, preconditioner and parts' scratch now, not at
      // a later garbage collection (whose fresh pages would be timed in the next solve).
      disposeOperator(op);
      for (const t of [b, x0, ...uploads]) backend.dispose(t);
    },
  };
}

function timeOurSolve(backend: Backend, problem: KfacProblem, rtol: number, choice: string, solver: Solver, repetitions: number, label: string): SolveRow {
  let best = Infinity;
  let iterations = '';
  let relativeResidual = NaN;
  let status = '';
  let description = '';
  for (let r = 0; r < repetitions; r++) {
    // Everything from the statistics to x is timed: operator construction, b, the
    // preconditioner's setup (built on first use), the iterations.
    const t0 = performance.now();
    const system = buildSystem(backend, problem);
    const options = { x0: system.x0, rtol, preconditioner: choice as 'auto', maxIterations: 10_000 };
    const result = solver === 'mixed' ? pcgMixedPrecision(system.op, system.b, options) : pcg(system.op, system.b, options);
    best = Math.min(best, (performance.now() - t0) / 1000);
    relativeResidual = result.residualNorm / backend.nrm2(system.b);
    status = result.status;
    description = result.preconditioner;
    iterations = 'refinements' in result ? `${result.iterations} (${result.refinements} rounds)` : String(result.iterations);
    backend.dispose(result.x);
    system.release();
  }
  return { solver: `${label}, preconditioner '${choice}' (${description})`, seconds: best, iterations, relativeResidual, detail: status };
}

/**
 * Seconds to build the 'auto' preconditioner of a fresh operator, by the bench's rule for short
 * timings (timing.ts): one warm-up, then at least 3 setups and 1 s; best and median. Each setup
 * gets a fresh system (built and released outside the timed part).
 */
function setupSeconds(backend: Backend, problem: KfacProblem): { best: number; median: number; repetitions: number } {
  const times: number[] = [];
  const start = performance.now();
  for (let r = 0; r < 1 + 3 || ((performance.now() - start) / 1000 < 1 && r < 50); r++) {
    const system = buildSystem(backend, problem);
    const t0 = performance.now();
    preconditioner(system.op, 'auto');
    if (r > 0) times.push((performance.now() - t0) / 1000); // r = 0: the warm-up
    system.release();
  }
  times.sort((a, b) => a - b);
  return { best: times[0], median: times[Math.floor(times.length / 2)], repetitions: times.length };
}

export async function kfacSolveSection(options: KfacSolveOptions): Promise<Section> {
  const log = options.log ?? (() => {});
  const { models, rtol } = options;
  const notes: string[] = [];
  const targets: TargetCheck[] = [];
  const tableRows: string[][] = [];
  const numpy = numpyAvailable();
  if ('skipped' in numpy) notes.push(`numpy skipped: ${numpy.skipped}`);
  else notes.push(`${describeNumpy(numpy)}: the paper's solver, unpreconditioned CG (scipy's loop) on numpy arrays`);
  const backend = createCpuBackend('float64');
  await backend.warmUp();
  const wasm = createCpuBackend('float64', { kernels: 'wasm-simd-threads' });
  await wasm.warmUp();
  for (const n of options.sizes) {
    const problem = kfacProblem(models, n);
    const rows: SolveRow[] = [];
    if (options.rows.includes('float64')) {
      for (const choice of ['auto', 'none']) {
        log(`kfac solve n=${n}: ours, preconditioner ${choice}`);
        rows.push(timeOurSolve(backend, problem, rtol, choice, 'pcg', options.repetitions, `ours: pcg, cpu ${backend.mode} float64`));
      }
      // What a browser, or Node without OpenBLAS, gets: the same solve on the WebAssembly kernels.
      if (backend.mode === 'blas') {
        log(`kfac solve n=${n}: ours on the WebAssembly kernels`);
        rows.push(timeOurSolve(wasm, problem, rtol, 'auto', 'pcg', options.repetitions, 'ours: pcg, cpu wasm-simd-threads float64 (WebAssembly, no native BLAS)'));
      }
      for (const other of options.others ?? []) {
        if (!other.dtypes.includes('float64')) continue;
        log(`kfac solve n=${n}: ${other.label}`);
        rows.push(timeOurSolve(await other.create('float64'), problem, rtol, 'auto', 'pcg', options.repetitions, `${other.label}: core's pcg`));
      }
    }
    if (options.rows.includes('mixed')) {
      log(`kfac solve n=${n}: ours, mixed precision`);
      rows.push(timeOurSolve(backend, problem, rtol, 'auto', 'mixed', options.repetitions, 'ours: pcgMixedPrecision (float32 products, float64 refinement)'));
    }
    let numpySeconds: number | undefined;
    if (!('skipped' in numpy)) {
      log(`kfac solve n=${n}: numpy`);
      const key = `${models}/${n}/${rtol}/${options.repetitions}`;
      const files = numpyRuns.has(key) ? undefined : writeKfacProblem(problem);
      try {
        const out = numpyRuns.get(key) ?? runNumpyScript<{ seconds: number; iterations: number; relativeResidual: number }>('kfac.py', [files!.dir, 'solve', String(rtol), String(options.repetitions)]);
        numpyRuns.set(key, out);
        numpySeconds = out.seconds;
        rows.push({ solver: "numpy: the paper's solver (unpreconditioned CG), float64", seconds: out.seconds, iterations: String(out.iterations), relativeResidual: out.relativeResidual, detail: 'converged' });
      } finally {
        files?.remove();
      }
    }
    let setup: number | undefined;
    let setupDetail = '';
    if (options.rows.includes('float64')) {
      log(`kfac solve n=${n}: preconditioner setup`);
      const timed = setupSeconds(backend, problem);
      setup = timed.best;
      setupDetail = `; best of ${timed.repetitions}, median ${fmt(timed.median * 1000)} ms (${fmt((100 * timed.median) / (rows.find((r) => r.solver.startsWith('ours: pcg'))?.seconds ?? NaN))} %)`;
    }
    const pcgRow = rows.find((r) => r.solver.startsWith('ours: pcg') && r.solver.includes("'auto'"));
    const mixedRow = rows.find((r) => r.solver.startsWith('ours: pcgMixedPrecision'));
    for (const r of rows) {
      tableRows.push([
        String(n),
        r.solver,
        fmt(r.seconds),
        r.iterations ?? '-',
        r.relativeResidual === undefined ? '-' : r.relativeResidual.toExponential(1),
        r.seconds === undefined || numpySeconds === undefined ? '-' : `${fmt(ratio(r.seconds, numpySeconds))}x`,
        r.detail,
      ]);
    }
    if (setup !== undefined) {
      tableRows.push([String(n), "  of which: building the 'auto' preconditioner (alone, fresh operator)", fmt(setup), '-', '-', '-', `${fmt((100 * setup) / (pcgRow?.seconds ?? NaN))} % of our pcg time${setupDetail}`]);
    }
    const bound = options.timeTargets.get(n);
    if (bound !== undefined && options.rows.includes('float64')) {
      targets.push({
        issue: 15,
        target: `mats kfac time to rtol ${rtol.toExponential(0)}, ${models} models, n = ${n}, float64: our PCG ('auto') / numpy's paper solver`,
        ratio: ratio(pcgRow?.seconds, numpySeconds),
        bound,
        direction: 'atMost',
        detail: `kfac solve table, n = ${n}`,
      });
    }
    if (bound !== undefined && mixedRow) {
      notes.push(`n = ${n}: mixed precision ${fmt(ratio(mixedRow.seconds, numpySeconds))}x numpy's time (not the target row: it is off by default).`);
    }
    if (n === 512 && options.rows.includes('float64')) {
      targets.push({
        issue: 8,
        target: "mats kfac time to solution n = 512: our PCG ('auto') vs numpy's paper solver",
        ratio: ratio(pcgRow?.seconds, numpySeconds),
        bound: 1.5,
        direction: 'atMost',
        detail: 'kfac solve table, n = 512',
      });
    }
    if (n === options.setupTargetN && setup !== undefined) {
      targets.push({
        issue: 15,
        target: `preconditioner setup at n = ${n}: share of our time to solution`,
        ratio: pcgRow?.seconds === undefined ? undefined : (100 * setup) / pcgRow.seconds,
        bound: 10,
        direction: 'atMost',
        unit: '%',
        detail: `kfac solve table, setup row at n = ${n}`,
      });
    }
  }
  notes.push(
    `${models} models, [n, n] factors (shared part + task part, damping 0.1), start x0 = mean_i w_i, ` +
      `stop at ||b - A x|| <= ${rtol.toExponential(0)} ||b||; best of ${options.repetitions} solves. Every time includes ` +
      'forming b and x0 from the statistics; ours also building the operators and the preconditioner. Our K-FAC matvec is the ' +
      "backend's prepareKroneckerSum (core's Sum of Kroneckers uses it: 2 M native gemms per apply on 'blas', the fused kernel on " +
      "the WebAssembly ones); mixed precision runs it with float32 products and checks every round on the float64 residual.",
  );
  return {
    title: `${options.title ?? 'mats kfac'}: time to rtol ${rtol.toExponential(0)}`,
    tables: [{ header: ['n', 'solver', 'seconds', 'iterations', '||b - A x|| / ||b||', 'vs numpy', 'status'], rows: tableRows }],
    notes,
    targets,
  };
}
