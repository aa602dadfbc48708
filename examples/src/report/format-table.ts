import type { ResultRow } from './results.js';

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
  return `${row.label}: ${knobs === '' ? 'no knobs' : knobs}${validation}`;
}

export function percent(x: number): string {
  return (100 * x).toFixed(1);
}
