import { formatChoice, percent, signed } from './format-table.js';
import type { AblationRow, DemoResults, LayerDiagnostics, ResultRow } from './results.js';
import { escapeXml, heatmap, horizontalBarChart, lineChart, type Series } from './svg-charts.js';

const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#7f7f7f'];

function rowColor(row: ResultRow, index: number): string {
  return row.kind === 'reference' ? '#9e9e9e' : PALETTE[index % PALETTE.length];
}

/**
 * The report people look at: one self-contained HTML file (inline SVG, no script, no network)
 * with the table, its charts, how every knob was chosen and the CG convergence of mats.
 */
export function renderReport(results: DemoResults): string {
  const { rows, tasks } = results;
  const merges = rows.filter((r) => r.kind === 'merge');
  const bars = rows.map((row, i) => ({ label: row.label, value: row.meanTestAccuracy, color: rowColor(row, i - (rows.length - merges.length)), note: row.kind === 'merge' ? formatChoice(row) : row.label }));
  const sweeps = merges.filter((r) => (r.candidates?.length ?? 0) > 1);
  // One chart per mats row; colour names the weight matrix, a dashed line the plain-CG solver.
  const parameters = [...new Set(results.convergence.map((c) => c.parameter))];
  const convergenceCharts = [...new Set(results.convergence.map((c) => c.label.split(' (')[0]))].map((row) => {
    const series: Series[] = results.convergence
      .filter((c) => c.label.startsWith(`${row} (`))
      .map((c) => ({
        label: `${c.parameter}, ${c.label.slice(row.length + 2, -1)}`,
        color: PALETTE[parameters.indexOf(c.parameter) % PALETTE.length],
        dashed: c.label.includes('plain CG'),
        points: c.points.map((p) => [p.iterations, p.relativeResidual] as const),
      }));
    return `<figure>${lineChart(series, { title: `${row}: residual against CG iterations`, xLabel: 'CG iterations', yLabel: 'relative residual', logY: true, width: 900, legendWidth: 330 })}</figure>`;
  });
  const tableRows = rows
    .map((row) => {
      const cells = row.testAccuracy.map((a) => `<td>${percent(a)}</td>`).join('');
      return `<tr class="${row.kind}"><th>${escapeXml(row.label)}</th>${cells}<td class="mean">${percent(row.meanTestAccuracy)}</td></tr>`;
    })
    .join('\n');

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>MaTS-TS demo: merging an MLP zoo on MNIST</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 980px; margin: 2em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { padding: 4px 10px; text-align: right; border-bottom: 1px solid #ddd; }
th:first-child { text-align: left; }
tr.reference { color: #555; }
td.mean { font-weight: bold; }
code { background: #f4f4f4; padding: 1px 4px; }
figure { margin: 1.5em 0; }
</style>
</head>
<body>
<h1>Merging an MLP model zoo on MNIST</h1>
<p>${results.architecture.join('-')} MLP (${results.parameterCount.toLocaleString('en')} parameters), trained in TypeScript on the CPU backend.
A base model is pretrained on ${results.dataSizes.pretrain} plain digits; ${tasks.length} task models are fine-tuned from it, each on about
${Math.round(results.dataSizes.trainPerTask.reduce((s, n) => s + n, 0) / tasks.length)} transformed digits of its own; the multitask model is fine-tuned on all of them together.
Test accuracy in percent on ${results.dataSizes.testPerTask} held-out digits per task; every merge's knobs were chosen on ${results.dataSizes.validationPerTask} validation digits per task, never on test data.
Merges ran through <code>${escapeXml(results.mergeCommand)}</code>.</p>
<p>Tasks: ${tasks.map((t, i) => `<b>${escapeXml(t)}</b> (${escapeXml(results.taskDescriptions[i])})`).join(', ')}.</p>

<h2>Test accuracy</h2>
<table>
<thead><tr><th>model</th>${tasks.map((t) => `<th>${escapeXml(t)}</th>`).join('')}<th>mean</th></tr></thead>
<tbody>
${tableRows}
</tbody>
</table>
<p>"individual" is each task's own fine-tuned model on its own task: the level a merge would reach if it lost nothing.</p>

<figure>${horizontalBarChart(bars, { title: 'Mean test accuracy over the tasks' })}</figure>
<figure>${heatmap(rows.map((r) => r.label), tasks, rows.map((r) => r.testAccuracy), 'Test accuracy per task (%)')}</figure>

<h2>Knobs chosen on validation data</h2>
<ul>
${merges.map((r) => `<li>${escapeXml(formatChoice(r))}</li>`).join('\n')}
</ul>
${sweeps.map((r) => sweepChart(r)).join('\n')}

${ablationSection(results.ablations, rows, tasks)}
${diagnosticsSection(results.diagnostics, tasks)}

<h2>CG convergence of mats</h2>
<p>Relative residual ||r_k|| / ||r_0|| of the merge's linear system (sum_i C_i) theta = sum_i C_i theta_i per weight matrix, after k iterations
(each point is a merge run with that iteration limit and the chosen initialisation).</p>
${convergenceCharts.join('\n')}

<h2>Training</h2>
<table>
<thead><tr><th>model</th><th>examples</th><th>epochs</th><th>seconds</th><th>final loss</th><th>this run</th></tr></thead>
<tbody>
${results.training.map((t) => `<tr><th>${escapeXml(t.model)}</th><td>${t.examples}</td><td>${t.epochs}</td><td>${t.seconds.toFixed(1)}</td><td>${t.finalLoss.toFixed(4)}</td><td>${t.trainedNow ? 'trained' : 'cached'}</td></tr>`).join('\n')}
</tbody>
</table>
<p>Wall time of this run: ${results.seconds.total.toFixed(1)} s (training ${results.seconds.training.toFixed(1)} s, statistics ${results.seconds.statistics.toFixed(1)} s, merging and evaluation ${results.seconds.merging.toFixed(1)} s).</p>
</body>
</html>
`;
}

/** The ablation table: each change to a chosen row, its validation and test accuracy, and the difference. */
function ablationSection(ablations: readonly AblationRow[], rows: readonly ResultRow[], tasks: readonly string[]): string {
  if (ablations.length === 0) return '';
  const body = [...new Set(ablations.map((a) => a.of))].flatMap((of) => {
    const row = rows.find((r) => r.label === of);
    if (row === undefined) return [];
    const cells = (test: readonly number[]) => test.map((a, i) => `<td title="${escapeXml(tasks[i])}">${percent(a)}</td>`).join('');
    return [
      `<tr class="reference"><th>${escapeXml(of)} as chosen</th><td>${percent(row.validationAccuracy ?? NaN)}</td>${cells(row.testAccuracy)}<td class="mean">${percent(row.meanTestAccuracy)}</td><td></td></tr>`,
      ...ablations
        .filter((a) => a.of === of)
        .map((a) => `<tr><th title="${escapeXml(JSON.stringify(a.parameters))}">${escapeXml(a.label)}</th><td>${percent(a.validationAccuracy)}</td>${cells(a.testAccuracy)}<td class="mean">${percent(a.meanTestAccuracy)}</td><td>${signed(100 * (a.meanTestAccuracy - row.meanTestAccuracy))}</td></tr>`),
    ];
  });
  return `<h2>Ablations: what moves the number</h2>
<p>Each line changes one thing of a chosen row's knobs and merges once (no tuning); "vs row" is the change of mean test accuracy in points. Hover a line for its parameters.</p>
<table>
<thead><tr><th>change</th><th>validation</th>${tasks.map((t) => `<th>${escapeXml(t)}</th>`).join('')}<th>test mean</th><th>vs row</th></tr></thead>
<tbody>
${body.join('\n')}
</tbody>
</table>`;
}

/** Per weight matrix of the chosen mats kfac merge: per-task traces and ranks, conditioning, CG residuals. */
function diagnosticsSection(diagnostics: readonly LayerDiagnostics[], tasks: readonly string[]): string {
  if (diagnostics.length === 0) return '';
  const number = (x: number | undefined) => (x === undefined ? '' : x === Infinity ? '&infin;' : Math.abs(x) >= 1e4 || (Math.abs(x) < 1e-2 && x !== 0) ? x.toExponential(1) : x.toFixed(2));
  const tables = diagnostics.map((d) => {
    const lines = d.tasks.map((t) => `<tr><th>${escapeXml(tasks[t.model] ?? `models[${t.model}]`)}</th><td>${number(t.gradTrace)}</td><td>${number(t.gradRank)}</td><td>${number(t.inputTrace)}</td><td>${number(t.inputRank)}</td></tr>`);
    const residuals = d.relativeResiduals;
    const last = residuals.length > 0 ? `${residuals.length - 1} iterations, relative residual ${number(residuals.at(-1))} (${escapeXml(d.status ?? '')})` : 'closed form';
    return `<h3>${escapeXml(d.parameter)} (${escapeXml(d.subspace)})</h3>
<p>Summed factors as solved (damped): eigenvalue ratio of sum G at least ${number(d.gradCondition)}, of sum A at least ${number(d.inputCondition)}; CG: ${last}.</p>
<table><thead><tr><th>task</th><th>tr G</th><th>eff. rank G</th><th>tr A</th><th>eff. rank A</th></tr></thead><tbody>
${lines.join('\n')}
</tbody></table>`;
  });
  return `<h2>The K-FAC systems of the chosen mats kfac merge</h2>
<p>From <code>mats merge --json-log</code>: per task, the trace and effective rank (tr<sup>2</sup> / ||.||<sub>F</sub><sup>2</sup>) of its output-gradient Gram G and input Gram A as estimated, and the conditioning of the summed factors the solve uses (Lanczos estimates, lower bounds). An ill-conditioned sum G is what made the undamped K-FAC merge fail.</p>
${tables.join('\n')}`;
}

/** Validation accuracy of every candidate of one method against its first numeric knob. */
function sweepChart(row: ResultRow): string {
  const candidates = row.candidates ?? [];
  const numericKeys = Object.keys(candidates[0]?.parameters ?? {}).filter((k) => candidates.some((c) => typeof c.parameters[k] === 'number' && c.parameters[k] !== candidates[0].parameters[k]));
  if (numericKeys.length === 0) return '';
  const [xKey, ...others] = numericKeys;
  const groups = new Map<string, [number, number][]>();
  for (const c of candidates) {
    const group = others.map((k) => `${k}=${String(c.parameters[k])}`).join(', ') || row.label;
    const points = groups.get(group) ?? [];
    points.push([c.parameters[xKey] as number, c.validationAccuracy]);
    groups.set(group, points);
  }
  const series = [...groups.entries()].map(([label, points], i) => ({ label, color: PALETTE[i % PALETTE.length], points: points.sort((a, b) => a[0] - b[0]) }));
  return `<figure>${lineChart(series, { title: `${row.label}: validation accuracy against ${xKey}`, xLabel: xKey, yLabel: 'mean validation accuracy', width: 620, height: 280 })}</figure>`;
}
