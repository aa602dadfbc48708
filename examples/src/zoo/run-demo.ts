import { createCpuBackend } from '@mats/backend-cpu';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LabelledImages } from '../data/labelled-images.js';
import { methodNames } from '@mats/merge';
import { accuracy } from '../mlp/evaluate.js';
import { Mlp } from '../mlp/mlp.js';
import { formatChoice, formatResultsTable } from '../report/format-table.js';
import { renderReport } from '../report/report-html.js';
import type { AblationRow, CandidateScore, ConvergenceSeries, DemoResults, ResultRow } from '../report/results.js';
import { formatAblations } from '../report/format-table.js';
import { candidateGrid, extendedAxes } from './knob-grid.js';
import { bestCandidate, floorAccuracies, meetsFloor } from './task-floor.js';
import { layerDiagnostics } from './layer-diagnostics.js';
import { loadMergedCheckpoint } from './load-merged.js';
import { MergeRunner, type MergeOutcome } from './merge-runner.js';
import { ABLATIONS, METHOD_PLANS, type Ablation, type MethodPlan } from './method-plans.js';
import { prepareZoo, zooNames } from './prepare-zoo.js';
import { SafetensorsStore } from './safetensors-store.js';
import { FISHER_KINDS, zooKey, type ZooConfig } from './zoo-config.js';
import { buildZooData } from './zoo-data.js';

export interface DemoOptions {
  readonly config: ZooConfig;
  /** Trained zoo, statistics and merges, reused by later runs (examples/.cache). */
  readonly cacheDir: string;
  /** results.json, report.html and the merge configs (examples/out). */
  readonly outDir: string;
  readonly mergeMode: 'in-process' | 'spawn';
  /** Only these rows of METHOD_PLANS ('mats kfac' or mats_kfac); all by default. */
  readonly methods?: readonly string[];
  /** Run the ablations of the chosen rows (default true). */
  readonly ablations?: boolean;
  readonly log: (line: string) => void;
}

/**
 * The whole workload: data, zoo (trained or cached), statistics, every merge through
 * `mats merge` with knobs chosen on validation data, test accuracy of everything.
 */
export async function runDemo(options: DemoOptions): Promise<DemoResults> {
  const start = performance.now();
  const { config, log } = options;
  const backend = createCpuBackend('float64');
  const data = buildZooData(config);
  const key = zooKey(config);
  const store = new SafetensorsStore(join(options.cacheDir, key));
  log(`zoo ${key}: ${data.tasks.length} tasks (${data.tasks.map((t) => t.name).join(', ')}), files in ${store.folder}`);
  const zoo = await prepareZoo(config, data, store, backend, log);
  const tasks = data.tasks.map((t) => t.name);

  const reference = (label: string, testAccuracy: number[]): ResultRow => ({ label, kind: 'reference', testAccuracy, meanTestAccuracy: mean(testAccuracy) });
  const rows: ResultRow[] = [
    reference('base', onTasks(zoo.base, data.test)),
    reference('individual', zoo.tasks.map((m, i) => accuracy(m, data.test[i]))),
    reference('multitask', onTasks(zoo.multitask, data.test)),
  ];

  const mergeStart = performance.now();
  // Candidate configs of this run only; the chosen one per method is copied to configs/<row>.yaml.
  await rm(join(options.outDir, 'configs'), { recursive: true, force: true });
  const runner = new MergeRunner({
    configDir: join(options.outDir, 'configs', 'candidates'),
    cacheDir: join(options.cacheDir, 'merges'),
    base: store.pathOf(zooNames.base),
    models: tasks.map((t) => store.pathOf(zooNames.task(t))),
    // The config's kind of Fisher first: the table's; the other for the ablation.
    statistics: Object.fromEntries(
      [config.statistics.fisher, ...FISHER_KINDS.filter((k) => k !== config.statistics.fisher)].map((kind) => [kind, tasks.map((t) => store.pathOf(zooNames.statistics(t, kind, config.statistics.examples)))]),
    ),
    precision: 'float64',
    inputsKey: key,
    mode: options.mergeMode,
  });
  const chosen = new Map<string, ResultRow>();
  const merges = { run: 0, reused: 0 };
  const convergence: ConvergenceSeries[] = [];
  const plans = selectPlans(options.methods, log);
  let kfacLog: MergeOutcome['log'] = [];
  for (const plan of plans) {
    const row = await chooseOnValidation(plan, chosen, runner, backend, data.validation, data.test, log);
    rows.push(row.row);
    for (const { outcome } of row.outcomes) merges[outcome.cached ? 'reused' : 'run']++;
    chosen.set(plan.label, row.row);
    if (plan.method === 'mats') convergence.push(...convergenceOf(plan.label, row.row.parameters ?? {}, row.outcomes));
    if (plan.label === 'mats kfac') kfacLog = row.outcomes.find((o) => o.parameters === row.row.parameters)?.outcome.log ?? [];
    await runner.writeConfig({ label: fileLabel(plan.label), method: plan.method, parameters: row.row.parameters ?? {}, statistics: plan.statistics }, join(options.outDir, 'configs'));
  }
  const ablations: AblationRow[] = [];
  for (const ablation of options.ablations === false ? [] : ABLATIONS.filter((a) => chosen.has(a.of))) {
    const row = await runAblation(ablation, chosen.get(ablation.of)!, plans.find((p) => p.label === ablation.of)!, config.statistics.fisher, runner, backend, data.validation, data.test);
    merges[row.cached ? 'reused' : 'run']++;
    ablations.push(row.row);
    log(`  ablation of ${ablation.of}: ${ablation.label}: validation ${(100 * row.row.validationAccuracy).toFixed(1)}%, test ${(100 * row.row.meanTestAccuracy).toFixed(1)}%`);
  }
  const mergeSeconds = (performance.now() - mergeStart) / 1000;

  const results: DemoResults = {
    zoo: key,
    tasks,
    taskDescriptions: data.tasks.map((t) => t.description),
    architecture: zoo.base.sizes,
    parameterCount: zoo.base.parameterCount,
    dataSizes: {
      pretrain: data.pretrain.count,
      trainPerTask: data.train.map((d) => d.count),
      validationPerTask: data.validation[0].count,
      testPerTask: data.test[0].count,
    },
    training: zoo.training,
    rows,
    ablations,
    diagnostics: layerDiagnostics(kfacLog),
    convergence,
    seconds: { total: (performance.now() - start) / 1000, training: zoo.trainingSeconds, statistics: zoo.statisticsSeconds, merging: mergeSeconds },
    merges,
    mergeCommand: options.mergeMode === 'spawn' ? 'node packages/merge/dist/cli/main.js merge CONFIG (the mats bin, one process per merge)' : 'runCli([\'merge\', CONFIG, ...]) (the function the mats bin runs, in this process)',
  };
  await mkdir(options.outDir, { recursive: true });
  await writeFile(join(options.outDir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  await writeFile(join(options.outDir, 'report.html'), renderReport(results));
  log('');
  log(formatResultsTable(tasks, rows));
  log('');
  for (const row of rows.filter((r) => r.kind === 'merge')) log(formatChoice(row));
  if (ablations.length > 0) {
    log('');
    log(formatAblations(tasks, rows, ablations));
  }
  return results;
}

/**
 * The plans asked for, in table order. A plan whose method this build of @mats/merge does not
 * have is left out with a line that says so (no stand-in method is ever used).
 */
function selectPlans(requested: readonly string[] | undefined, log: (line: string) => void): MethodPlan[] {
  const normalise = (label: string) => label.trim().toLowerCase().replace(/[\s_-]+/g, '_');
  const wanted = requested?.map(normalise);
  const unknown = wanted?.filter((w) => !METHOD_PLANS.some((p) => normalise(p.label) === w)) ?? [];
  if (unknown.length > 0) throw new RangeError(`unknown method row(s) ${unknown.join(', ')}; rows: ${METHOD_PLANS.map((p) => p.label).join(', ')}`);
  const available = new Set(methodNames());
  const asked = new Set(METHOD_PLANS.filter((p) => wanted === undefined || wanted.includes(normalise(p.label))).map((p) => p.label));
  for (const plan of METHOD_PLANS) if (asked.has(plan.label)) for (const row of plan.requires ?? []) asked.add(row);
  const runnable: MethodPlan[] = [];
  for (const plan of METHOD_PLANS.filter((p) => asked.has(p.label))) {
    const missing = (plan.requires ?? []).filter((row) => !runnable.some((r) => r.label === row));
    if (!available.has(plan.method)) log(`  ${plan.label.padEnd(16)} skipped: @mats/merge has no method "${plan.method}" yet`);
    else if (missing.length > 0) log(`  ${plan.label.padEnd(16)} skipped: it starts from ${missing.join(', ')}, which did not run`);
    else runnable.push(plan);
  }
  return runnable;
}

/** 'mats kfac' -> 'mats_kfac': file names of configs. */
function fileLabel(label: string): string {
  return label.replace(/\s+/g, '_');
}

interface Choice {
  readonly row: ResultRow;
  readonly outcomes: readonly { readonly parameters: Record<string, unknown>; readonly outcome: MergeOutcome }[];
}

/**
 * Merges every candidate of the plan's grid, scores it on validation data, extends any axis whose
 * best value sits on its edge (knob-grid.ts) until none does, and tests the best candidate (the
 * best under the plan's per-task floor, if it has one: task-floor.ts).
 */
async function chooseOnValidation(
  plan: MethodPlan,
  chosen: ReadonlyMap<string, ResultRow>,
  runner: MergeRunner,
  backend: ReturnType<typeof createCpuBackend>,
  validation: readonly LabelledImages[],
  test: readonly LabelledImages[],
  log: (line: string) => void,
): Promise<Choice> {
  const fixed = plan.fixed?.(chosen) ?? {};
  let axes = plan.axes?.(chosen) ?? [];
  const floor = plan.taskFloor === undefined ? undefined : floorAccuracies(plan.taskFloor, chosen);
  const scores: CandidateScore[] = [];
  const outcomes: Choice['outcomes'][number][] = [];
  const tried = new Set<string>();
  const points: Record<string, unknown>[] = [];
  const extensions: string[] = [];
  const pick = () => bestCandidate(scores.map((c) => c.validationAccuracy), floor && scores.map((c) => meetsFloor(c.validationTaskAccuracy, floor)));
  for (let round = 0; ; round++) {
    for (const point of candidateGrid(fixed, axes)) {
      const parameters = plan.toParameters?.(point) ?? point;
      const id = JSON.stringify(parameters);
      if (tried.has(id)) continue;
      tried.add(id);
      const outcome = await runner.merge({ label: `${fileLabel(plan.label)}-${scores.length}`, method: plan.method, parameters, statistics: plan.statistics });
      const mlp = await loadMergedCheckpoint(backend, outcome.folder);
      const validationTaskAccuracy = onTasks(mlp, validation);
      scores.push({ parameters, validationAccuracy: mean(validationTaskAccuracy), validationTaskAccuracy, mergeSeconds: outcome.seconds });
      outcomes.push({ parameters, outcome });
      points.push(point);
    }
    const next = extendedAxes(axes, points[pick().index]);
    if (next === undefined || round >= 12) break;
    extensions.push(next.reason);
    axes = next.axes;
  }
  const { index: bestIndex, unconstrained, floorMet } = pick();
  // The chosen (and the best-mean) candidate, reloaded from its merge folder, on test digits.
  const tested = async (i: number) => {
    const testAccuracy = onTasks(await loadMergedCheckpoint(backend, outcomes[i].outcome.folder), test);
    return { testAccuracy, meanTestAccuracy: mean(testAccuracy) };
  };
  const best = scores[bestIndex];
  const merged = outcomes.filter((o) => !o.outcome.cached).length;
  const extended = extensions.length > 0 ? `, grid extended: ${extensions.join(', ')}` : '';
  const selection = plan.taskFloor === undefined
    ? 'the best mean validation accuracy'
    : `the best mean validation accuracy with no task more than ${plan.taskFloor.points} points below ${plan.taskFloor.row} on its validation digits${floorMet ? '' : ' (no candidate met that floor: the best mean instead)'}`;
  log(`  ${plan.label.padEnd(16)} ${scores.length} candidate(s) (${merged} merged now, ${scores.length - merged} cached${extended}), best on validation ${(100 * best.validationAccuracy).toFixed(1)}%: ${JSON.stringify(best.parameters)}`);
  if (unconstrained !== bestIndex) {
    log(`  ${''.padEnd(16)} chosen under the per-task floor; the best mean among the candidates tried was ${(100 * scores[unconstrained].validationAccuracy).toFixed(1)}%: ${JSON.stringify(scores[unconstrained].parameters)}`);
  }
  return {
    row: {
      label: plan.label,
      kind: 'merge',
      method: plan.method,
      parameters: best.parameters,
      validationAccuracy: best.validationAccuracy,
      validationTaskAccuracy: best.validationTaskAccuracy,
      selection,
      ...(unconstrained !== bestIndex ? { unconstrained: { parameters: scores[unconstrained].parameters, validationAccuracy: scores[unconstrained].validationAccuracy, ...(await tested(unconstrained)) } } : {}),
      ...(await tested(bestIndex)),
      candidates: scores,
      ...(axes.length > 0 ? { grid: Object.fromEntries(axes.map((a) => [a.knob, [...a.values]])) } : {}),
      ...(plan.toParameters !== undefined ? { gridPoint: points[bestIndex] } : {}),
    },
    outcomes,
  };
}

const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

/** The model's accuracy on each task's set, in task order. */
function onTasks(mlp: Mlp, sets: readonly LabelledImages[]): number[] {
  return sets.map((set) => accuracy(mlp, set));
}

/** One changed merge of a chosen row, scored on validation and test data. */
async function runAblation(
  ablation: Ablation,
  row: ResultRow,
  plan: MethodPlan,
  fisher: string,
  runner: MergeRunner,
  backend: ReturnType<typeof createCpuBackend>,
  validation: readonly LabelledImages[],
  test: readonly LabelledImages[],
): Promise<{ row: AblationRow; cached: boolean }> {
  const parameters = ablation.change(row.parameters ?? {});
  const statistics = ablation.statistics ?? (plan.statistics ? fisher : 'none');
  const index = ABLATIONS.indexOf(ablation);
  const outcome = await runner.merge({ label: `ablation-${index}`, method: plan.method, parameters, statistics: ablation.statistics ?? plan.statistics });
  const mlp = await loadMergedCheckpoint(backend, outcome.folder);
  const testAccuracy = onTasks(mlp, test);
  return {
    row: { label: ablation.label, of: ablation.of, parameters, statistics, validationAccuracy: mean(onTasks(mlp, validation)), testAccuracy, meanTestAccuracy: mean(testAccuracy) },
    cached: outcome.cached,
  };
}

/**
 * Per weight matrix and solver: relative residual after each iteration count, among the
 * candidates that share the chosen candidate's other knobs (its shrink, say).
 */
function convergenceOf(label: string, chosen: Readonly<Record<string, unknown>>, outcomes: Choice['outcomes']): ConvergenceSeries[] {
  const sameOtherKnobs = (p: Readonly<Record<string, unknown>>) =>
    Object.keys(chosen).every((k) => k === 'iterations' || k === 'reference' || k === 'preconditioner' || p[k] === chosen[k]);
  const series = new Map<string, ConvergenceSeries & { points: { iterations: number; relativeResidual: number }[] }>();
  for (const { parameters, outcome } of outcomes.filter((o) => sameOtherKnobs(o.parameters))) {
    const solver = parameters.reference === true ? 'plain CG' : `PCG, ${String(parameters.preconditioner ?? 'auto')} preconditioner`;
    for (const line of outcome.log) {
      if (typeof line.name !== 'string' || typeof line.iterations !== 'number' || typeof line.residualNorm !== 'number' || typeof line.initialResidualNorm !== 'number') continue;
      if (line.initialResidualNorm === 0) continue;
      const key = `${solver}|${line.name}`;
      const entry = series.get(key) ?? { label: `${label} (${solver})`, parameter: line.name, points: [] };
      entry.points.push({ iterations: line.iterations, relativeResidual: line.residualNorm / line.initialResidualNorm });
      series.set(key, entry);
    }
  }
  return [...series.values()].map((s) => ({ ...s, points: s.points.sort((a, b) => a.iterations - b.iterations) }));
}
