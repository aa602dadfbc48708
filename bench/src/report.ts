/** Sections of the benchmark report, as markdown. */

export interface Table {
  header: string[];
  rows: string[][];
}

/** A target of issue 8, checked against ratios measured side by side in one run. */
export interface TargetCheck {
  target: string;
  /** The measured ratio, or undefined when a side of it could not run. */
  ratio: number | undefined;
  /** Pass when ratio >= bound ('atLeast') or ratio <= bound ('atMost'). */
  bound: number;
  direction: 'atLeast' | 'atMost';
  detail: string;
}

export interface Section {
  title: string;
  tables: Table[];
  notes: string[];
  targets: TargetCheck[];
}

export function markdownTable(table: Table): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(table.header), line(table.header.map(() => '---')), ...table.rows.map(line)].join('\n');
}

export function formatSection(section: Section): string {
  const parts = [`## ${section.title}`, ''];
  for (const table of section.tables) parts.push(markdownTable(table), '');
  for (const note of section.notes) parts.push(`- ${note}`);
  if (section.notes.length > 0) parts.push('');
  return parts.join('\n');
}

export function targetMet(t: TargetCheck): boolean | undefined {
  if (t.ratio === undefined) return undefined;
  return t.direction === 'atLeast' ? t.ratio >= t.bound : t.ratio <= t.bound;
}

export function formatTargets(targets: TargetCheck[]): string {
  const rows = targets.map((t) => {
    const met = targetMet(t);
    const verdict = met === undefined ? 'not measured' : met ? 'met' : 'missed';
    const bound = `${t.direction === 'atLeast' ? '>=' : '<='} ${t.bound}x`;
    return [t.target, bound, t.ratio === undefined ? 'n/a' : `${t.ratio.toFixed(2)}x`, verdict, t.detail];
  });
  return markdownTable({ header: ['target', 'bound', 'measured', 'verdict', 'from'], rows });
}

/** A number with 3 significant digits, or a dash. */
export function fmt(x: number | undefined, digits = 3): string {
  if (x === undefined || !Number.isFinite(x)) return '-';
  return x >= 10 ** digits ? x.toFixed(0) : x.toPrecision(digits);
}

export function ratio(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined || !(b > 0) ? undefined : a / b;
}
