import type { AblationRow, ResultRow } from './results.js';

/**
 * The results as a plain-text table: one row per model or merge, one column per task's test
 * accuracy (percent) and the mean. Rows keep their order; the best merge is starred.
 */
export function formatResultsTable(tasks: readonly string[], rows: readonly ResultRow[]): string {
  const labelWidth = Math.max(10, ...rows.map((r) => r.label.length));
  const widths = tasks.map((t) => Math.max(6, t.length));
  const header = ['model'.padEnd(labelWidth), ...tasks.map((t, i) => t.padStart(widths[i])), 'mean'.padStart(6)].join('  ');
  const bestMerge = Math.max(...rows.filter((r) => r.kind === 'merge').map((r) => r.meanTestAccuracy));
  const lines = [header, '-'.repeat(header.length)];
  let previousKind: ResultRow['kind'] | undefined;
  for (const row of rows) {
    if (previousKind === 'reference' && row.kind === 'merge') lines.push('-'.repeat(header.length));
    previousKind = row.kind;
    const cells = row.testAccuracy.map((a, i) => percent(a).padStart(widths[i]));
    const star = row.kind === 'merge' && row.meanTestAccuracy === bestMerge ? ' *' : '';
    lines.push([row.label.padEnd(labelWidth), ...cells, percent(row.meanTestAccuracy).padStart(6)].join('  ') + star);
  }
  return lines.join('\n');
}

/** A one-line description of the knobs chosen on validation data. */
export function formatChoice(row: ResultRow): string {
  const knobs = Object.entries(row.parameters ?? {})
    .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(', ');
  const validation = row.validationAccuracy === undefined ? '' : ` (validation ${percent(row.validationAccuracy)}%, ${row.candidates?.length ?? 1} candidates)`;
  const lines = [`${row.label}: ${knobs === '' ? 'no knobs' : knobs}${validation}`];
  if (row.unconstrained !== undefined) {
    const u = row.unconstrained;
    lines.push(`  chosen by ${row.selection}; the best mean among the candidates tried, ${JSON.stringify(u.parameters)}, had validation ${percent(u.validationAccuracy)}% and test ${percent(u.meanTestAccuracy)}%`);
  }
  return lines.join('\n');
}

export function percent(x: number): string {
  return (100 * x).toFixed(1);
}

/**
 * The ablation table: each change to a chosen row with its validation and mean test accuracy
 * and the difference to the row (percentage points), the row itself first.
 */
export function formatAblations(tasks: readonly string[], rows: readonly ResultRow[], ablations: readonly AblationRow[]): string {
  const labelWidth = Math.max(40, ...ablations.map((a) => a.label.length));
  const header = `${'change'.padEnd(labelWidth)}  ${'validation'.padStart(10)}  ${'test'.padStart(6)}  ${'vs row'.padStart(7)}  ${'worst task'.padStart(18)}`;
  const lines = [`ablations (one merge each, no tuning; "vs row": test points against the chosen row)`, header, '-'.repeat(header.length)];
  for (const of of [...new Set(ablations.map((a) => a.of))]) {
    const row = rows.find((r) => r.label === of);
    if (row === undefined) continue;
    lines.push(`${`${of} as chosen`.padEnd(labelWidth)}  ${percent(row.validationAccuracy ?? NaN).padStart(10)}  ${percent(row.meanTestAccuracy).padStart(6)}  ${''.padStart(7)}`);
    for (const a of ablations.filter((x) => x.of === of)) {
      const delta = 100 * (a.meanTestAccuracy - row.meanTestAccuracy);
      const perTask = a.testAccuracy.map((x, i) => x - row.testAccuracy[i]);
      const worst = perTask.indexOf(Math.min(...perTask));
      const worstText = `${tasks[worst]} ${signed(100 * perTask[worst])}`;
      lines.push(`${`  ${a.label}`.padEnd(labelWidth)}  ${percent(a.validationAccuracy).padStart(10)}  ${percent(a.meanTestAccuracy).padStart(6)}  ${signed(delta).padStart(7)}  ${worstText.padStart(18)}`);
    }
  }
  return lines.join('\n');
}

/** +1.2 / -0.4 */
export function signed(points: number): string {
  return `${points >= 0 ? '+' : ''}${points.toFixed(1)}`;
}
