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
 *
 * Factors (factor-controls.ts): off-diagonal shrink, damping of every factor, of G_i alone and
 * of A_i alone (relative to the mean eigenvalue, or absolute), per-task normalisation of G_i;
 * per tensor pattern through `tensors` rules; a weight's bias folded into it (bias-folding.ts).
 * The default damps every G_i by the tasks' average mean eigenvalue (grad_damping {shared: 1}):
 * undamped K-FAC merges of the demo's zoo score ~14% when solved to convergence (README).
 * iterations: 0 returns the initialisation exactly.
 */
import { solve, type Backend, type SolveOptions, type Tensor } from '@mats/core';
import { z } from 'zod';
import { Checkpoint } from '../checkpoint/checkpoint.js';
import type { InputFiles } from '../io/files.js';
import { UserError } from '../errors.js';
import type { FloatArray } from '../safetensors/decode.js';
import { formatShape } from '../util/format.js';
import { factorKnobSchemas, NO_DAMPING } from './factor-controls.js';
import { defineMethod, type BoundMethod, type MethodCall, type MethodRuntime, type TensorDescriptor, type TensorJob, type TensorResult } from './method.js';
import { solveReport } from './solve-report.js';
import { solveMixedPrecision } from './mixed-precision-solve.js';
import { DEFAULT_FISHER_FLOOR } from './statistic-factors.js';
import { subspaceNeeds, type Subspace } from './subspace.js';
import { describeSubspaceMerge, mergeInSubspace, subspaceStatisticBytes, type MergeBlock } from './subspace-merge.js';
import type { TaskSystem } from './task-system.js';
import { subspaceChoiceSchema, tensorRuleSchema, TensorSettings } from './tensor-rules.js';

/**
 * Initialisations that are not a method's output: zeros, the base, or `checkpoint`, the tensors
 * of another checkpoint (another config's output) at `init_path`.
 */
const PLAIN_INITS = ['zeros', 'base', 'checkpoint'] as const;

/**
 * grad_damping: G_i + 1 * mean_j (tr G_j / n) I (shared: every task gets the same RegMean term),
 * safe on the demo's zoo and the other zoos (README, "What moved the number"); reference: true
 * keeps the paper's undamped factors.
 */
const MATS_DEFAULTS = { preconditioner: 'auto', rtol: 1e-5, atol: 0, init_lambda: 0.3, grad_damping: { relative: 0, absolute: 0, shared: 1 } } as const;

export const matsParameters = z
  .strictObject({
    /** The task subspace C_i; auto: per tensor, the richest with statistics in every model. */
    subspace: subspaceChoiceSchema.default('auto').describe('the task subspace C_i; auto: per tensor, the richest whose statistics every model has (kfac, gram, diagonal for a 2-D weight; block, diagonal for a 1-D one); identity: the average'),
    /** CG iteration budget (the paper: 100); 0 returns the initialisation. */
    iterations: z.number().int().gte(0).default(100).describe('CG iteration budget (the paper: 100); 0 returns the initialisation exactly'),
    /** Initial guess: zeros, base, checkpoint (init_path), or any method's output on the same tensor (task_arithmetic: the paper's). */
    init: z.string().min(1).default('task_arithmetic').describe('x0: zeros, base, checkpoint (init_path), or any method\'s output on the tensor (average, task_arithmetic: the paper\'s, ties, fisher, regmean, ...)'),
    /** lambda of init: task_arithmetic (the paper: 0.3). */
    init_lambda: z.number().finite().optional().meta({ defaultText: '0.3 (with init: task_arithmetic)' }).describe('lambda of init: task_arithmetic (the paper: 0.3)'),
    /** Parameters of the init method (init: ties, say). */
    init_parameters: z.record(z.string(), z.unknown()).optional().describe('knobs of the init method (init: ties with init_parameters: {density: 0.3})'),
    /** init: checkpoint: a checkpoint (file or folder, e.g. another config's output), relative to the config. */
    init_path: z.string().min(1).optional().describe('init: checkpoint: the checkpoint (file or folder, another config\'s output say) to start from, relative to the config'),
    shrink: factorKnobSchemas.shrink.default(1).describe('as regmean\'s, on every Gram factor (G_i and A_i)'),
    /** Every factor: a number is relative (delta * mean eigenvalue), or {relative, absolute}. */
    damping: factorKnobSchemas.damping.default(NO_DAMPING).meta({ defaultText: '0' }).describe('every factor (G_i, A_i, a diagonal Fisher, a Fisher block): a number d adds d * (its mean eigenvalue) * I; {relative, absolute, shared} adds relative * tr(F_i)/n + absolute + shared * mean_j tr(F_j)/n'),
    /** G_i alone (kfac), added to damping; default {shared: 1} (none with reference: true). */
    grad_damping: factorKnobSchemas.grad_damping.optional().meta({ defaultText: '{shared: 1} (0 with reference: true)' }).describe('G_i alone (kfac), added to damping, in the same forms; the default gives every task the same RegMean term (an undamped K-FAC merge can lose most of its accuracy: README)'),
    /** A_i alone (gram, kfac), added to damping. */
    input_damping: factorKnobSchemas.input_damping.default(NO_DAMPING).meta({ defaultText: '0' }).describe('A_i alone (gram, kfac), added to damping, in the same forms'),
    /** G_i -> G_i / (tr G_i / n) before damping: every task's G gets mean eigenvalue 1. */
    normalize_grad: factorKnobSchemas.normalize_grad.default(false).describe('G_i -> G_i / (tr G_i / n) before damping: every task\'s G gets mean eigenvalue 1'),
    /** Merge a weight and its bias as one block [W | b] where every model has the weight's input_mean. */
    fold_bias: z.boolean().default(true).describe('merge a 2-D weight and its bias as one block [W | b] over [a; 1] where every model\'s statistics have the weight\'s input_mean'),
    /** Per tensor pattern: subspace and factor knobs; the first matching rule applies. */
    tensors: z.array(tensorRuleSchema).default([]).meta({ defaultText: '[] (every tensor: the knobs above)' }).describe('rules {pattern, subspace and factor knobs}: the first whose pattern matches a tensor name sets them for it (K-FAC here, Gram there, average for norms)'),
    /** none, jacobi, kronecker (the nearest Kronecker product; kfac tensors), auto (dispatch's best). */
    preconditioner: z.enum(['none', 'jacobi', 'kronecker', 'auto']).optional().meta({ defaultText: 'auto (none with reference: true)' }).describe('none, jacobi, kronecker (the nearest Kronecker product; kfac tensors), auto (dispatch\'s best: an exact inverse where a closed form exists, the Kronecker approximation for a sum of Kroneckers)'),
    /** Stop when ||b - A x|| <= max(atol, rtol ||b||). */
    rtol: z.number().gte(0).lt(1).optional().meta({ defaultText: '1e-5' }).describe('stop when ||b - A x|| <= max(atol, rtol ||b||), on the true residual'),
    atol: z.number().finite().gte(0).optional().meta({ defaultText: '0' }).describe('absolute residual tolerance (with rtol)'),
    /** cg: PCG; exact: dispatch's closed form where one exists (PCG elsewhere, with a note). */
    solver: z.enum(['cg', 'exact']).default('cg').describe('cg: PCG from x0; exact: the closed form where one exists (Fisher, RegMean, block, one Kronecker, two Kroneckers by simultaneous diagonalisation), PCG with a note where none does (kfac with 3 or more models)'),
    /** K-FAC solves with float32 operator products inside float64 refinement (mixed-precision-solve.ts). */
    mixed_precision: z.boolean().default(false).describe('true: kfac solves (precision: float64) run PCG with float32 operator products inside float64 iterative refinement: the same stopping rule, on the float64 residual; faster where the products dominate (npm run bench, mixed-precision); elsewhere no effect, and the log says why'),
    /** The paper's solver: plain CG, `iterations` steps, scipy's legacy stopping rule (tol 1e-5). */
    reference: z.boolean().default(false).describe('true: the paper\'s solver: plain CG from init, at most iterations steps, scipy\'s legacy stopping rule (tol 1e-5), below'),
  })
  .superRefine((p, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (p.init_lambda !== undefined && p.init !== 'task_arithmetic') issue('init_lambda', `only applies with init: task_arithmetic (init is ${p.init})`);
    if (p.init_parameters !== undefined && (PLAIN_INITS as readonly string[]).includes(p.init)) issue('init_parameters', `init: ${p.init} takes no parameters`);
    if (p.init_parameters !== undefined && p.init_lambda !== undefined) issue('init_parameters', 'give the task_arithmetic lambda once: init_lambda or init_parameters.lambda');
    if (p.init === 'checkpoint' && p.init_path === undefined) issue('init_path', 'init: checkpoint starts from the tensors of a checkpoint: add init_path: PATH (another config\'s output, say)');
    if (p.init_path !== undefined && p.init !== 'checkpoint') issue('init_path', `only applies with init: checkpoint (init is ${p.init})`);
    if (p.reference) {
      for (const key of ['rtol', 'atol'] as const) if (p[key] !== undefined) issue(key, 'reference: true uses scipy\'s legacy stopping rule (tol 1e-5); drop rtol/atol or set reference: false');
      if (p.preconditioner !== undefined && p.preconditioner !== 'none') issue('preconditioner', 'reference: true is unpreconditioned CG (the paper\'s solver); drop it or set reference: false');
      if (p.solver === 'exact') issue('solver', 'reference: true runs CG; solver: exact needs reference: false');
      if (p.mixed_precision) issue('mixed_precision', 'reference: true is the paper\'s float64 CG; drop mixed_precision or set reference: false');
    }
    if (p.mixed_precision && p.solver === 'exact') issue('mixed_precision', 'solver: exact uses closed forms; mixed_precision is for CG (solver: cg)');
    if (p.preconditioner === 'kronecker' && p.subspace !== 'kfac' && p.subspace !== 'auto' && p.tensors.every((r) => r.subspace !== 'kfac' && r.subspace !== 'auto')) {
      issue('preconditioner', `kronecker preconditions the kfac subspace; with subspace: ${p.subspace} use jacobi or auto`);
    }
  })
  .transform((p) => ({
    ...p,
    grad_damping: p.grad_damping ?? (p.reference ? NO_DAMPING : MATS_DEFAULTS.grad_damping),
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

/** x0 of a block, in its order (the init's output per tensor, joined), or undefined for zeros. */
async function initialValues(block: MergeBlock, p: MatsParameters, init: BoundMethod | undefined, runtime: Pick<MethodRuntime, 'resolvePath' | 'inputs'>): Promise<FloatArray | undefined> {
  if (p.init === 'zeros') return undefined;
  const part = async (job: TensorJob): Promise<FloatArray> => {
    if (p.init === 'base') return job.base();
    if (p.init === 'checkpoint') return readInitTensor(runtime.resolvePath?.(p.init_path!) ?? p.init_path!, job, runtime.inputs);
    return (await init!.merge(job)).values;
  };
  return block.join(await Promise.all(block.parts.map(part)));
}

/**
 * A tensor of the init_path checkpoint, of the job's name and shape. The checkpoint is opened per
 * tensor (headers only), so nothing stays open after the merge.
 */
async function readInitTensor(path: string, job: TensorJob, inputs: InputFiles | undefined): Promise<FloatArray> {
  let checkpoint: Checkpoint;
  try {
    checkpoint = await Checkpoint.open(path, inputs);
  } catch (e) {
    throw new UserError(`init_path ${path}: cannot open the initialisation checkpoint: ${(e as Error).message}`);
  }
  try {
    const tensor = checkpoint.get(job.name);
    if (tensor === undefined) throw new UserError(`init_path ${path}: no tensor ${job.name} to start it from`);
    if (formatShape(tensor.shape) !== formatShape(job.shape)) throw new UserError(`init_path ${path}: ${job.name} is ${formatShape(tensor.shape)}, the models' is ${formatShape(job.shape)}`);
    return await checkpoint.readFloats(job.name, job.precision);
  } finally {
    await checkpoint.close();
  }
}

/**
 * iterations: 0: the initialisation itself, unchanged (zeros for init: zeros), with the residual
 * ||b - A x0|| it leaves in the report.
 */
function initialisationOnly(system: TaskSystem, subspace: Subspace, x0: Tensor | undefined, values: FloatArray | undefined, backend: Backend): TensorResult {
  const residual = backend.zeros(system.shape);
  try {
    if (x0 !== undefined) system.system.apply(x0, residual);
    backend.scal(-1, residual);
    backend.axpy(1, system.rhs, residual);
    const norm = backend.nrm2(residual);
    const size = system.shape.reduce((a, b) => a * b, 1);
    return {
      values: values ?? new Float64Array(size),
      report: { iterations: 0, status: 'maxIterations', initialResidualNorm: norm, residualNorm: norm, details: { subspace, rule: 'initialisation (iterations: 0)' } },
    };
  } finally {
    backend.dispose(residual);
  }
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
  statistics: (tensor, p) => statisticsOf(tensor, p),
  describe: (tensor, p) => describeSubspaceMerge(tensor, subspaceOptions(p)),
  nested: (p): Record<string, MethodCall> => {
    const call = initCall(p);
    return call === undefined ? {} : { init: call };
  },
  // Inputs aside: the rhs, x0, x, CG's four work vectors, a term, a theta upload, the running
  // sum and one model's C_i (a Diagonal; Gram and Kronecker factors count as statistics).
  workingBytes: (length, _m, _p, _w, statisticElements) => length * 8 * 12 + subspaceStatisticBytes(statisticElements),
  async merge(job, { parameters: p, backend, nested, log, signal, resolvePath, inputs }) {
    return mergeInSubspace(job, backend, { ...subspaceOptions(p), owner: p }, async (system, subspace, models, block) => {
      const values = await initialValues(block, p, nested.init, { resolvePath, inputs });
      const x0 = values === undefined ? undefined : backend.fromArray(values, system.shape);
      try {
        if (p.iterations === 0) return initialisationOnly(system, subspace, x0, values, backend);
        const options = { ...solveOptions(p, subspace, x0), signal };
        const result = p.mixed_precision ? solveMixedPrecision(system, subspace, options) : solve(system.system, system.rhs, options);
        const solved = backend.toArray(result.x);
        backend.dispose(result.x);
        const report = solveReport(block.job.name, subspace, result, log);
        if (p.solver === 'exact' && result.method === 'pcg') {
          const why = `solver: exact: no closed form for ${subspace} with ${models.length} models; solved by PCG`;
          return { values: solved, report: { ...report, details: { ...report.details, note: [why, report.details?.note].filter(Boolean).join('; ') } } };
        }
        return { values: solved, report };
      } finally {
        if (x0 !== undefined) backend.dispose(x0);
      }
    });
  },
});

/** Settings per tensor (the rules over the method's own knobs) and the fold switch. */
const settingsCache = new WeakMap<MatsParameters, TensorSettings>();
function subspaceOptions(p: MatsParameters) {
  let settings = settingsCache.get(p);
  if (settings === undefined) {
    const { subspace, shrink, damping, grad_damping, input_damping, normalize_grad } = p;
    settings = new TensorSettings({ subspace, shrink, damping, grad_damping, input_damping, normalize_grad }, p.tensors);
    settingsCache.set(p, settings);
  }
  return { settings, floor: DEFAULT_FISHER_FLOOR, foldBias: p.fold_bias };
}

/** Statistics a tensor may use under its own settings; a folded bias reads its weight's. */
function statisticsOf(tensor: TensorDescriptor, p: MatsParameters) {
  return subspaceNeeds(tensor, subspaceOptions(p).settings.of(tensor.name).settings.subspace, p.fold_bias);
}
