import { describe, expect, it } from 'vitest';
import { formatAblations, formatChoice, formatResultsTable } from '../src/report/format-table.js';
import { renderReport } from '../src/report/report-html.js';
import type { DemoResults, ResultRow } from '../src/report/results.js';
import { escapeXml, lineChart } from '../src/report/svg-charts.js';

const row = (label: string, kind: ResultRow['kind'], testAccuracy: number[], extra: Partial<ResultRow> = {}): ResultRow => ({
  label,
  kind,
  testAccuracy,
  meanTestAccuracy: testAccuracy.reduce((s, x) => s + x, 0) / testAccuracy.length,
  ...extra,
});

const rows: ResultRow[] = [
  row('base', 'reference', [0.1, 0.9]),
  row('individual', 'reference', [0.9, 0.95]),
  row('task_arithmetic', 'merge', [0.5, 0.7], {
    method: 'task_arithmetic',
    parameters: { lambda: 0.3 },
    validationAccuracy: 0.61,
    candidates: [
      { parameters: { lambda: 0.1 }, validationAccuracy: 0.5, validationTaskAccuracy: [0.4, 0.6], mergeSeconds: 0.1 },
      { parameters: { lambda: 0.3 }, validationAccuracy: 0.61, validationTaskAccuracy: [0.52, 0.7], mergeSeconds: 0.1 },
    ],
  }),
  row('regmean <s>', 'merge', [0.7, 0.8], { method: 'regmean', parameters: { shrink: 0.9 }, validationAccuracy: 0.74 }),
];

describe('results table', () => {
  it('prints one line per row with percentages and the mean, starring the best merge only', () => {
    const table = formatResultsTable(['rot', 'blur'], rows).split('\n');
    expect(table[0]).toMatch(/^model\s+rot\s+blur\s+mean$/);
    const regmean = table.find((l) => l.startsWith('regmean'))!;
    expect(regmean).toMatch(/70\.0\s+80\.0\s+75\.0 \*$/);
    expect(table.find((l) => l.startsWith('task_arithmetic'))).toMatch(/60\.0$/);
    expect(table.find((l) => l.startsWith('individual'))).toMatch(/92\.5$/);
    expect(table.filter((l) => /^-+$/.test(l))).toHaveLength(2); // under the header, between references and merges
  });

  it('describes the chosen knobs and the validation score', () => {
    expect(formatChoice(rows[2])).toBe('task_arithmetic: lambda=0.3 (validation 61.0%, 2 candidates)');
  });
});

describe('report', () => {
  const results: DemoResults = {
    zoo: 'test-000',
    tasks: ['rot', 'blur'],
    taskDescriptions: ['rotated', 'blurred & <b>'],
    architecture: [784, 8, 10],
    parameterCount: 6370,
    dataSizes: { pretrain: 100, trainPerTask: [50, 50], validationPerTask: 20, testPerTask: 40 },
    training: [{ model: 'base', examples: 100, epochs: 2, seconds: 0.5, finalLoss: 0.3, trainedNow: true }],
    rows,
    ablations: [{ label: 'no <folding>', of: 'regmean <s>', parameters: { shrink: 0.9, fold_bias: false }, statistics: 'true', validationAccuracy: 0.7, testAccuracy: [0.6, 0.8], meanTestAccuracy: 0.7 }],
    diagnostics: [
      {
        parameter: 'layers.0.weight',
        subspace: 'kfac',
        tasks: [{ model: 0, gradTrace: 0.5, gradRank: 3.2, inputTrace: 40, inputRank: 12 }, { model: 1, gradTrace: 0.01, gradRank: 1.5, inputTrace: 30, inputRank: 9 }],
        gradCondition: 2e4,
        inputCondition: Infinity,
        relativeResiduals: [1, 0.1, 0.01],
        status: 'maxIterations',
      },
    ],
    convergence: [{ label: 'mats kfac (plain CG)', parameter: 'layers.0.weight', points: [{ iterations: 10, relativeResidual: 0.1 }, { iterations: 30, relativeResidual: 0.001 }] }],
    seconds: { total: 3, training: 1, statistics: 0.5, merging: 1 },
    mergeCommand: 'mats merge CONFIG',
    merges: { run: 3, reused: 0 },
  };

  it('is one self-contained HTML file: the table, charts as inline SVG, escaped text, no script', () => {
    const html = renderReport(results);
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
    expect(html).toContain('blurred &amp; &lt;b&gt;');
    expect(html).toContain('regmean &lt;s&gt;');
    expect(html.match(/<svg /g)!.length).toBeGreaterThanOrEqual(4); // bars, heatmap, lambda sweep, convergence
    expect(html).toContain('<td class="mean">75.0</td>');
    expect(html).toContain('task_arithmetic: validation accuracy against lambda');
  });

  it('has the ablation table (each change against its row, in points) and the per-layer K-FAC diagnostics', () => {
    const html = renderReport(results);
    expect(html).toContain('<th>regmean &lt;s&gt; as chosen</th><td>74.0</td>');
    // 0.7 against the row's 0.75: -5.0 points; escaped label.
    expect(html).toMatch(/no &lt;folding&gt;<\/th><td>70\.0<\/td><td title="rot">60\.0<\/td><td title="blur">80\.0<\/td><td class="mean">70\.0<\/td><td>-5\.0<\/td>/);
    expect(html).toContain('<h3>layers.0.weight (kfac)</h3>');
    expect(html).toContain('eigenvalue ratio of sum G at least 2.0e+4, of sum A at least &infin;; CG: 2 iterations, relative residual 0.01 (maxIterations)');
    expect(html).toContain('<tr><th>blur</th><td>0.01</td><td>1.50</td><td>30.00</td><td>9.00</td></tr>');
  });

  it('prints the ablation table in text', () => {
    const text = formatAblations(['rot', 'blur'], rows, results.ablations);
    expect(text).toMatch(/regmean <s> as chosen\s+74\.0\s+75\.0/);
    expect(text).toMatch(/ {2}no <folding>\s+70\.0\s+70\.0\s+-5\.0\s+rot -10\.0/);
  });

  it('draws log-scale residuals and skips points a log scale cannot show', () => {
    const svg = lineChart([{ label: 'r', color: '#000', points: [[1, 1], [2, 0], [3, 1e-3]] }], { title: 't', xLabel: 'x', yLabel: 'y', logY: true });
    expect(svg.match(/<circle /g)).toHaveLength(2);
    expect(svg).toContain('1e-3');
    expect(escapeXml(`a"b'c`)).toBe('a&quot;b&#39;c');
  });
});
