import { methodNames } from '@mats/merge';
import { describe, expect, it } from 'vitest';
import { candidateGrid, extendedAxes } from '../src/zoo/knob-grid.js';
import { ABLATIONS, METHOD_PLANS, type KnobAxis } from '../src/zoo/method-plans.js';

describe('the demo\'s plans', () => {
  it('cover every registered method (the demo runs every method)', () => {
    const planned = new Set(METHOD_PLANS.map((p) => p.method));
    expect(methodNames().filter((m) => !planned.has(m))).toEqual([]);
  });

  it('ablations vary rows the plans have', () => {
    for (const a of ABLATIONS) expect(METHOD_PLANS.map((p) => p.label)).toContain(a.of);
  });
});

describe('knob grids', () => {
  const lambda: KnobAxis = { knob: 'lambda', values: [0.1, 0.2, 0.3], below: (v) => (v / 2 >= 0.01 ? v / 2 : undefined), above: (v) => (v < 1 ? Math.min(1, v + 0.5) : undefined) };
  const density: KnobAxis = { knob: 'density', values: [0.2, 0.4] };

  it('are every combination of the axes over the fixed knobs', () => {
    const grid = candidateGrid({ trim: 'global' }, [lambda, density]);
    expect(grid).toHaveLength(6);
    expect(grid[0]).toEqual({ trim: 'global', lambda: 0.1, density: 0.2 });
    expect(grid[5]).toEqual({ trim: 'global', lambda: 0.3, density: 0.4 });
    expect(candidateGrid({ a: 1 }, [])).toEqual([{ a: 1 }]);
  });

  it('extend an axis whose best value sits on its edge, and stop inside or at the end of its range', () => {
    const low = extendedAxes([lambda, density], { lambda: 0.1, density: 0.4 });
    expect(low?.axes[0].values).toEqual([0.05, 0.1, 0.2, 0.3]);
    // density has no extension: it stays, and the reason names lambda only.
    expect(low?.axes[1].values).toEqual([0.2, 0.4]);
    expect(low?.reason).toBe('lambda 0.05 (best 0.1 on the edge)');
    const high = extendedAxes([lambda], { lambda: 0.3 });
    expect(high?.axes[0].values).toEqual([0.1, 0.2, 0.3, 0.8]);
    expect(extendedAxes([lambda], { lambda: 0.2 })).toBeUndefined();
    expect(extendedAxes([{ ...lambda, values: [0.01, 0.1] }], { lambda: 0.01 })).toBeUndefined();
    expect(extendedAxes([{ ...lambda, values: [0.5, 1] }], { lambda: 1 })).toBeUndefined();
  });

  it('never extend a categorical axis; a plan maps its grid points to config parameters', () => {
    expect(extendedAxes([{ knob: 'mode', values: ['a', 'b'] }], { mode: 'a' })).toBeUndefined();
    const kfac = METHOD_PLANS.find((p) => p.label === 'mats kfac')!;
    expect(kfac.toParameters!({ subspace: 'kfac', damping_of_g: 'shared', beta: 3, iterations: 10 })).toEqual({ subspace: 'kfac', grad_damping: { shared: 3 }, iterations: 10 });
  });
});
