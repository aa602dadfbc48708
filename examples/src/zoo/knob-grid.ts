import type { KnobAxis } from './method-plans.js';

/** Every combination of the axes' values over the fixed knobs, the first axis varying slowest. */
export function candidateGrid(fixed: Readonly<Record<string, unknown>>, axes: readonly KnobAxis[]): Record<string, unknown>[] {
  let grid: Record<string, unknown>[] = [{ ...fixed }];
  for (const axis of axes) grid = grid.flatMap((partial) => axis.values.map((value) => ({ ...partial, [axis.knob]: value })));
  return grid;
}

/**
 * The axes extended where the best candidate sits on an edge that can move (a value past the
 * lowest or highest), with a line that says so; undefined when no axis needs it. The caller
 * merges the new combinations (the grid again, less what it has tried) and asks again.
 */
export function extendedAxes(axes: readonly KnobAxis[], best: Readonly<Record<string, unknown>>): { axes: KnobAxis[]; reason: string } | undefined {
  const reasons: string[] = [];
  const next = axes.map((axis) => {
    const value = best[axis.knob];
    if (typeof value !== 'number' || axis.values.some((v) => typeof v !== 'number')) return axis;
    const numbers = axis.values as readonly number[];
    const lowest = Math.min(...numbers);
    const highest = Math.max(...numbers);
    let extra: number | undefined;
    if (value === lowest && axis.values.length > 0) extra = axis.below?.(lowest);
    else if (value === highest) extra = axis.above?.(highest);
    if (extra === undefined || axis.values.includes(extra)) return axis;
    reasons.push(`${axis.knob} ${extra} (best ${value} on the edge)`);
    return { ...axis, values: extra < lowest ? [extra, ...numbers] : [...numbers, extra] };
  });
  return reasons.length === 0 ? undefined : { axes: next, reason: reasons.join(', ') };
}
