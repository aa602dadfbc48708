/** Sections of the benchmark report, as markdown. */

export interface Table {
  header: string[];
  rows: string[][];
}

/** A target of an issue, checked against what one run measured (ratios side by side). */
export interface TargetCheck {
  /** Which issue set it (8, 15). */
  issue: number;
  target: string;
  /** The measured value (a ratio unless unit says otherwise), or undefined when a side of it could not run. */
  ratio: number | undefined;
  /** Pass when ratio >= bound ('atLeast') or ratio <= bound ('atMost'). */
  bound: number;
  direction: 'atLeast' | 'atMost';
  /** 'x' (a ratio, the default), 'MiB', '%'. */
  unit?: 'x' | 'MiB' | '%';
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

function withUnit(x: number, unit: TargetCheck['unit']): string {
  if (unit === 'MiB') return `${x.toFixed(0)} MiB`;
  if (unit === '%') return `${x.toFixed(1)} %`;
  return `${x.toFixed(2)}x`;
}

/** The verdict: met, not measured, or missed and by how much (the factor to the bound). */
export function verdict(t: TargetCheck): string {
  const met = targetMet(t);
  if (met === undefined) return 'not measured';
  if (met) return 'met';
  const factor = t.direction === 'atMost' ? t.ratio! / t.bound : t.bound / t.ratio!;
  return `missed (${factor.toFixed(2)}x off)`;
}

export function formatTargets(targets: TargetCheck[]): string {
  const rows = targets.map((t) => {
    const bound = `${t.direction === 'atLeast' ? '>=' : '<='} ${withUnit(t.bound, t.unit)}`;
    return [`${t.target} (issue ${t.issue})`, bound, t.ratio === undefined ? 'n/a' : withUnit(t.ratio, t.unit), verdict(t), t.detail];
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
