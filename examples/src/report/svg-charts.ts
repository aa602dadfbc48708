/**
 * Small self-contained SVG charts for the report: no library, no script, opens in any browser.
 */

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export interface Bar {
  readonly label: string;
  readonly value: number; // in [0, 1]
  readonly color: string;
  readonly note?: string;
}

/** Horizontal bars of values in [0, 1], labelled, with the value printed as a percentage. */
export function horizontalBarChart(bars: readonly Bar[], options: { title: string; width?: number }): string {
  const width = options.width ?? 720;
  const labelWidth = 130;
  const rowHeight = 24;
  const top = 34;
  const plotWidth = width - labelWidth - 70;
  const height = top + bars.length * rowHeight + 30;
  const x = (v: number) => labelWidth + v * plotWidth;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(options.title)}">`,
    `<text x="${width / 2}" y="18" text-anchor="middle" font-weight="bold">${escapeXml(options.title)}</text>`,
  ];
  for (let t = 0; t <= 10; t += 2) {
    const gx = x(t / 10);
    parts.push(`<line x1="${gx}" y1="${top - 6}" x2="${gx}" y2="${height - 24}" stroke="#ddd"/>`);
    parts.push(`<text x="${gx}" y="${height - 8}" text-anchor="middle" font-size="11" fill="#555">${t * 10}%</text>`);
  }
  bars.forEach((bar, i) => {
    const y = top + i * rowHeight;
    parts.push(`<text x="${labelWidth - 8}" y="${y + 15}" text-anchor="end" font-size="13">${escapeXml(bar.label)}</text>`);
    parts.push(`<rect x="${labelWidth}" y="${y + 3}" width="${Math.max(0, bar.value) * plotWidth}" height="${rowHeight - 7}" fill="${bar.color}"><title>${escapeXml(bar.note ?? bar.label)}</title></rect>`);
    parts.push(`<text x="${x(Math.max(0, bar.value)) + 5}" y="${y + 15}" font-size="12">${(100 * bar.value).toFixed(1)}%</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** A table of values in [0, 1] as coloured cells (white 0 to deep green 1). */
export function heatmap(rowLabels: readonly string[], columnLabels: readonly string[], values: readonly (readonly number[])[], title: string): string {
  const cellWidth = 74;
  const cellHeight = 24;
  const labelWidth = 130;
  const top = 50;
  const width = labelWidth + columnLabels.length * cellWidth + 10;
  const height = top + rowLabels.length * cellHeight + 10;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(title)}">`,
    `<text x="${width / 2}" y="18" text-anchor="middle" font-weight="bold">${escapeXml(title)}</text>`,
  ];
  columnLabels.forEach((c, j) => parts.push(`<text x="${labelWidth + (j + 0.5) * cellWidth}" y="${top - 8}" text-anchor="middle" font-size="12">${escapeXml(c)}</text>`));
  rowLabels.forEach((r, i) => {
    const y = top + i * cellHeight;
    parts.push(`<text x="${labelWidth - 8}" y="${y + 16}" text-anchor="end" font-size="13">${escapeXml(r)}</text>`);
    values[i].forEach((v, j) => {
      const shade = Math.round(255 - 170 * Math.min(1, Math.max(0, v)));
      const fill = `rgb(${shade - 40 < 0 ? 0 : shade - 40},${Math.min(255, shade + 30)},${shade - 40 < 0 ? 0 : shade - 40})`;
      const text = v > 0.6 ? '#fff' : '#000';
      parts.push(`<rect x="${labelWidth + j * cellWidth}" y="${y}" width="${cellWidth - 2}" height="${cellHeight - 2}" fill="${fill}"/>`);
      parts.push(`<text x="${labelWidth + (j + 0.5) * cellWidth}" y="${y + 16}" text-anchor="middle" font-size="12" fill="${text}">${(100 * v).toFixed(1)}</text>`);
    });
  });
  parts.push('</svg>');
  return parts.join('\n');
}

export interface Series {
  readonly label: string;
  readonly color: string;
  readonly points: readonly (readonly [number, number])[];
  readonly dashed?: boolean;
}

/** Line chart; logY plots log10 of y (residual norms). */
export function lineChart(
  series: readonly Series[],
  options: { title: string; xLabel: string; yLabel: string; logY?: boolean; logX?: boolean; width?: number; height?: number; legendWidth?: number },
): string {
  const width = options.width ?? 720;
  const height = options.height ?? 360;
  const margin = { left: 70, right: options.legendWidth ?? 170, top: 34, bottom: 46 };
  const tx = (v: number) => (options.logX ? Math.log10(v) : v);
  const ty = (v: number) => (options.logY ? Math.log10(v) : v);
  const all = series.flatMap((s) => s.points).filter(([px, py]) => Number.isFinite(tx(px)) && Number.isFinite(ty(py)));
  if (all.length === 0) return `<p>${escapeXml(options.title)}: no data</p>`;
  let [x0, x1] = [Math.min(...all.map((p) => tx(p[0]))), Math.max(...all.map((p) => tx(p[0])))];
  let [y0, y1] = [Math.min(...all.map((p) => ty(p[1]))), Math.max(...all.map((p) => ty(p[1])))];
  if (options.logY) [y0, y1] = [Math.floor(y0), Math.ceil(y1)];
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) y1 = y0 + 1;
  const px = (v: number) => margin.left + ((tx(v) - x0) / (x1 - x0)) * (width - margin.left - margin.right);
  const py = (v: number) => height - margin.bottom - ((ty(v) - y0) / (y1 - y0)) * (height - margin.top - margin.bottom);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(options.title)}">`,
    `<text x="${(width - margin.right + margin.left) / 2}" y="18" text-anchor="middle" font-weight="bold">${escapeXml(options.title)}</text>`,
    `<rect x="${margin.left}" y="${margin.top}" width="${width - margin.left - margin.right}" height="${height - margin.top - margin.bottom}" fill="none" stroke="#999"/>`,
  ];
  const yTicks = options.logY ? range(y0, y1).map((e) => 10 ** e) : niceTicks(y0, y1);
  for (const v of yTicks) {
    parts.push(`<line x1="${margin.left}" x2="${width - margin.right}" y1="${py(v)}" y2="${py(v)}" stroke="#eee"/>`);
    parts.push(`<text x="${margin.left - 6}" y="${py(v) + 4}" text-anchor="end" font-size="11">${options.logY ? `1e${Math.round(Math.log10(v))}` : formatTick(v)}</text>`);
  }
  const xTicks = options.logX ? range(Math.floor(x0), Math.ceil(x1)).map((e) => 10 ** e).filter((v) => tx(v) >= x0 && tx(v) <= x1) : niceTicks(x0, x1);
  for (const v of xTicks) parts.push(`<text x="${px(v)}" y="${height - margin.bottom + 16}" text-anchor="middle" font-size="11">${formatTick(v)}</text>`);
  parts.push(`<text x="${(width - margin.right + margin.left) / 2}" y="${height - 8}" text-anchor="middle" font-size="12">${escapeXml(options.xLabel)}</text>`);
  parts.push(`<text transform="translate(16 ${(height - margin.bottom + margin.top) / 2}) rotate(-90)" text-anchor="middle" font-size="12">${escapeXml(options.yLabel)}</text>`);
  series.forEach((s, i) => {
    const points = s.points.filter(([a, b]) => Number.isFinite(tx(a)) && Number.isFinite(ty(b)));
    if (points.length === 0) return;
    const d = points.map(([a, b], k) => `${k === 0 ? 'M' : 'L'}${px(a).toFixed(1)},${py(b).toFixed(1)}`).join(' ');
    parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5,4"' : ''}/>`);
    for (const [a, b] of points) parts.push(`<circle cx="${px(a).toFixed(1)}" cy="${py(b).toFixed(1)}" r="2.5" fill="${s.color}"/>`);
    const ly = margin.top + 10 + i * 18;
    parts.push(`<line x1="${width - margin.right + 10}" x2="${width - margin.right + 30}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5,4"' : ''}/>`);
    parts.push(`<text x="${width - margin.right + 35}" y="${ly + 4}" font-size="11">${escapeXml(s.label)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let v = from; v <= to; v++) out.push(v);
  return out;
}

function niceTicks(from: number, to: number): number[] {
  const step = 10 ** Math.floor(Math.log10((to - from) / 4));
  const mult = [1, 2, 5, 10].find((m) => (to - from) / (m * step) <= 6) ?? 10;
  const s = mult * step;
  const out: number[] = [];
  for (let v = Math.ceil(from / s) * s; v <= to + 1e-12; v += s) out.push(Number(v.toPrecision(12)));
  return out;
}

function formatTick(v: number): string {
  return Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(0) : String(Number(v.toPrecision(3)));
}
