/**
 * mats (Tam et al., "Merging by Matching Models in Task Parameter Subspaces", TMLR 2024;
 * METHODS.md): per tensor, solve (sum_i w_i C_i) theta = sum_i w_i C_i theta_i by conjugate
 * gradients from an initialisation, for a chosen subspace:
 *   identity -> the average; diagonal -> Fisher merging; gram -> the RegMean objective;
 *   kfac (C_i = G_i (x) A_i) -> the paper's headline objective; block -> a dense Fisher of a
 *   1-D parameter; auto -> per tensor, the richest of these whose statistics every model has.
 * Tensors outside the subspace (biases without statistics, norms, embeddings) are averaged,
 * and the report says so. The operators, their sum and the solve are @mats/core's:
 * solver: cg runs PCG, solver: exact takes dispatch's closed form (two Kroneckers included);
 * reference: true is the paper's solver (unpreconditioned CG, a fixed iteration count,
 * scipy's legacy stopping rule, from the task-arithmetic initialisation).
 */
import { solve, type Backend, type SolveOptions, type Tensor } from '@mats/core';
import { z } from 'zod';
import { defineMethod, type BoundMethod, type MethodCall, type TensorJob } from './method.js';
import { gramKnobs } from './regmean.js';
import { solveReport } from './solve-report.js';
import { DEFAULT_FISHER_FLOOR } from './statistic-factors.js';
import { SUBSPACES, subspaceNeeds, type Subspace } from './subspace.js';
import { mergeInSubspace, subspaceStatisticBytes } from './subspace-merge.js';

/** Initialisations that are not a method's output. */
const PLAIN_INITS = ['zeros', 'base'] as const;

const MATS_DEFAULTS = { preconditioner: 'auto', rtol: 1e-5, atol: 0, init_lambda: 0.3 } as const;

export const matsParameters = z
  .strictObject({
    /** The task subspace C_i; auto: per tensor, the richest with statistics in every model. */
    subspace: z.enum([...SUBSPACES, 'auto']).default('auto').describe('the task subspace C_i; auto: per tensor, the richest whose statistics every model has (kfac, gram, diagonal for a 2-D weight; block, diagonal for a 1-D one)'),
    /** CG iteration budget (the paper: 100). */
    iterations: z.number().int().positive().default(100).describe('CG iteration budget (the paper: 100)'),
    /** Initial guess: zeros, base, or any method's output on the same tensor (task_arithmetic: the paper's). */
    init: z.string().min(1).default('task_arithmetic').describe('x0: zeros, base, or any method\'s output on the tensor (average, task_arithmetic: the paper\'s, ties, fisher, regmean, ...)'),
    /** lambda of init: task_arithmetic (the paper: 0.3). */
    init_lambda: z.number().finite().optional().meta({ defaultText: '0.3 (with init: task_arithmetic)' }).describe('lambda of init: task_arithmetic (the paper: 0.3)'),
    /** Parameters of the init method (init: ties, say). */
    init_parameters: z.record(z.string(), z.unknown()).optional().describe('knobs of the init method (init: ties with init_parameters: {density: 0.3})'),
    shrink: gramKnobs.shrink.default(1).describe('as regmean\'s, on every Gram factor (G_i and A_i)'),
    damping: gramKnobs.damping.default(0).describe('as regmean\'s, on every Gram factor, and on a diagonal Fisher and a Fisher block'),
    /** none, jacobi, kronecker (the nearest Kronecker product; kfac tensors), auto (dispatch's best). */
    preconditioner: z.enum(['none', 'jacobi', 'kronecker', 'auto']).optional().meta({ defaultText: 'auto (none with reference: true)' }).describe('none, jacobi, kronecker (the nearest Kronecker product; kfac tensors), auto (dispatch\'s best: an exact inverse where a closed form exists, the Kronecker approximation for a sum of Kroneckers)'),
    /** Stop when ||b - A x|| <= max(atol, rtol ||b||). */
    rtol: z.number().gte(0).lt(1).optional().meta({ defaultText: '1e-5' }).describe('stop when ||b - A x|| <= max(atol, rtol ||b||), on the true residual'),
    atol: z.number().finite().gte(0).optional().meta({ defaultText: '0' }).describe('absolute residual tolerance (with rtol)'),
    /** cg: PCG; exact: dispatch's closed form where one exists (PCG elsewhere, with a note). */
    solver: z.enum(['cg', 'exact']).default('cg').describe('cg: PCG from x0; exact: the closed form where one exists (Fisher, RegMean, block, one Kronecker, two Kroneckers by simultaneous diagonalisation), PCG with a note where none does (kfac with 3 or more models)'),
    /** The paper's solver: plain CG, `iterations` steps, scipy's legacy stopping rule (tol 1e-5). */
    reference: z.boolean().default(false).describe('true: the paper\'s solver: plain CG from init, at most iterations steps, scipy\'s legacy stopping rule (tol 1e-5), below'),
  })
  .superRefine((p, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (p.init_lambda !== undefined && p.init !== 'task_arithmetic') issue('init_lambda', `only applies with init: task_arithmetic (init is ${p.init})`);
    if (p.init_parameters !== undefined && (PLAIN_INITS as readonly string[]).includes(p.init)) issue('init_parameters', `init: ${p.init} takes no parameters`);
    if (p.init_parameters !== undefined && p.init_lambda !== undefined) issue('init_parameters', 'give the task_arithmetic lambda once: init_lambda or init_parameters.lambda');
    if (p.reference) {
      for (const key of ['rtol', 'atol'] as const) if (p[key] !== undefined) issue(key, 'reference: true uses scipy\'s legacy stopping rule (tol 1e-5); drop rtol/atol or set reference: false');
      if (p.preconditioner !== undefined && p.preconditioner !== 'none') issue('preconditioner', 'reference: true is unpreconditioned CG (the paper\'s solver); drop it or set reference: false');
      if (p.solver === 'exact') issue('solver', 'reference: true runs CG; solver: exact needs reference: false');
    }
    if (p.preconditioner === 'kronecker' && p.subspace !== 'kfac' && p.subspace !== 'auto') {
      issue('preconditioner', `kronecker preconditions the kfac subspace; with subspace: ${p.subspace} use jacobi or auto`);
    }
  })
  .transform((p) => ({
    ...p,
    preconditioner: p.preconditioner ?? (p.reference ? 'none' : MATS_DEFAULTS.preconditioner),
    rtol: p.rtol ?? MATS_DEFAULTS.rtol,
    atol: p.atol ?? MATS_DEFAULTS.atol,
    init_lambda: p.init_lambda ?? MATS_DEFAULTS.init_lambda,
  }));

export type MatsParameters = z.output<typeof matsParameters>;

/** The method computing the initialisation, if the init is one. */
function initCall(p: MatsParameters): MethodCall | undefined {
  if ((PLAIN_INITS as readonly string[]).includes(p.init)) return undefined;
  if (p.init === 'task_arithmetic') return { method: 'task_arithmetic', parameters: p.init_parameters ?? { lambda: p.init_lambda } };
  return { method: p.init, parameters: p.init_parameters ?? {} };
}

/** x0 on the backend, or undefined for zeros. */
async function initialGuess(job: TensorJob, p: MatsParameters, init: BoundMethod | undefined, backend: Backend, shape: readonly number[]): Promise<Tensor | undefined> {
  if (p.init === 'zeros') return undefined;
  const values = p.init === 'base' ? await job.base() : (await init!.merge(job)).values;
  return backend.fromArray(values, shape);
}

/** The options of core's solve for these parameters. */
function solveOptions(p: MatsParameters, subspace: Subspace, x0: Tensor | undefined): SolveOptions {
  if (p.reference) return { reference: true, maxIterations: p.iterations, x0 };
  // The Kronecker approximation exists for Kronecker sums only; other subspaces get dispatch's best.
  const preconditioner = p.preconditioner === 'kronecker' && subspace !== 'kfac' ? 'auto' : p.preconditioner;
  return { method: p.solver === 'exact' ? 'auto' : 'pcg', x0, rtol: p.rtol, atol: p.atol, maxIterations: p.iterations, preconditioner };
}

export const mats = defineMethod({
  name: 'mats',
  summary: 'MaTS: solve (sum_i C_i) theta = sum_i C_i theta_i by CG in a task subspace (identity, diagonal, gram, kfac, block, auto)',
  parameters: matsParameters,
  requiresBase: (p) => p.init === 'base',
  elementwise: () => false,
  statistics: (tensor, p) => subspaceNeeds(tensor, p.subspace),
  nested: (p): Record<string, MethodCall> => {
    const call = initCall(p);
    return call === undefined ? {} : { init: call };
  },
  // Inputs aside: the rhs, x0, x, CG's four work vectors, a term, a theta upload, the running
  // sum and one model's C_i (a Diagonal; Gram and Kronecker factors count as statistics).
  workingBytes: (length, _m, _p, _w, statisticElements) => length * 8 * 12 + subspaceStatisticBytes(statisticElements),
  async merge(job, { parameters: p, backend, nested, log, signal }) {
    const options = { shrink: p.shrink, damping: p.damping, floor: DEFAULT_FISHER_FLOOR };
    return mergeInSubspace(job, p.subspace, backend, options, async (system, subspace, models) => {
      const x0 = await initialGuess(job, p, nested.init, backend, system.shape);
      try {
        const result = solve(system.system, system.rhs, { ...solveOptions(p, subspace, x0), signal });
        const values = backend.toArray(result.x);
        backend.dispose(result.x);
        const report = solveReport(job.name, subspace, result, log);
        if (p.solver === 'exact' && result.method === 'pcg') {
          const why = `solver: exact: no closed form for ${subspace} with ${models.length} models; solved by PCG`;
          return { values, report: { ...report, details: { ...report.details, note: [why, report.details?.note].filter(Boolean).join('; ') } } };
        }
        return { values, report };
      } finally {
        if (x0 !== undefined) backend.dispose(x0);
      }
    });
  },
});
