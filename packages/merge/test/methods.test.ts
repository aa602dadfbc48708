/**
 * The baseline methods through the real pipeline, against plain references written here from
 * METHODS.md, and the METHODS.md invariants as fast-check properties.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expectTensorsClose, floatsOf, mergeInMemory, mergeProblemArbitrary, type Fixture } from '@mats/merge/testing';
import { applyDareDrop, dareStreamKey } from '../src/methods/dare-mask.js';
import { naturalCompare } from '../src/util/natural-order.js';

type Arrays = Map<string, Float64Array>;

const setupArb = mergeProblemArbitrary();
const expectClose = expectTensorsClose;

const map = (arrays: Arrays, f: (name: string, x: Float64Array) => Float64Array): Arrays => new Map([...arrays].map(([n, x]) => [n, f(n, x)]));

function referenceAverage(models: Arrays[], weights: readonly number[]): Arrays {
  const total = weights.reduce((a, b) => a + b, 0);
  return map(models[0], (name, x) => x.map((_, j) => models.reduce((s, m, i) => s + weights[i] * m.get(name)![j], 0) / total));
}

function referenceTaskArithmetic(base: Arrays, models: Arrays[], weights: readonly number[], lambda: number): Arrays {
  return map(base, (name, b) => b.map((v, j) => v + lambda * models.reduce((s, m, i) => s + weights[i] * (m.get(name)![j] - v), 0)));
}

interface TiesReferenceOptions {
  /** One density for every model, or each model's. */
  density: number | readonly number[];
  lambda: number;
  trim: 'global' | 'per_tensor';
  weightedElection: boolean;
  /** Where the election sum is 0: the majority sign (the paper) or + (mergekit). */
  zeroSign?: 'majority' | 'positive';
  /** false: the weighted sum of agreeing entries instead of their mean. */
  normalize?: boolean;
  /** Scale each model's kept entries to its task vector's L1 norm, per tensor (mergekit's rescale). */
  l1Rescale?: boolean;
  /** Applies DARE to model i's task vector of a tensor (float64 here). */
  drop?: (i: number, name: string, tau: Float64Array) => void;
}

/**
 * TIES straight from METHODS.md, on plain arrays: ranks by sorting, keeps floor(density * n),
 * with the model flattened in plan order (natural name order) for the global trim.
 */
function referenceTies(base: Arrays, models: Arrays[], weights: readonly number[], o: TiesReferenceOptions): Arrays {
  const names = [...base.keys()].sort(naturalCompare);
  const densityOf = (i: number) => (typeof o.density === 'number' ? o.density : o.density[i]);
  const taus = models.map((m, i) =>
    names.map((n) => {
      const tau = m.get(n)!.map((v, j) => v - base.get(n)![j]);
      o.drop?.(i, n, tau);
      return tau;
    }),
  );
  const keepTop = (values: number[], k: number) => {
    const order = values.map((_, i) => i).sort((a, b) => Math.abs(values[b]) - Math.abs(values[a]) || a - b);
    const keep = new Array<boolean>(values.length).fill(false);
    for (let r = 0; r < k; r++) keep[order[r]] = true;
    return keep;
  };
  // keep[i][t][j]
  const keep = taus.map((perTensor, i) => {
    if (o.trim === 'per_tensor') return perTensor.map((tau) => keepTop([...tau], Math.floor(densityOf(i) * tau.length)));
    const flat = perTensor.flatMap((tau) => [...tau]);
    const k = keepTop(flat, Math.floor(densityOf(i) * flat.length));
    let at = 0;
    return perTensor.map((tau) => k.slice(at, (at += tau.length)));
  });
  if (o.l1Rescale) {
    taus.forEach((perTensor, i) =>
      perTensor.forEach((tau, t) => {
        const before = tau.reduce((s, x) => s + Math.abs(x), 0);
        const after = tau.reduce((s, x, j) => s + (keep[i][t][j] ? Math.abs(x) : 0), 0);
        if (before >= 1e-7 && after >= 1e-7) tau.forEach((x, j) => (tau[j] = keep[i][t][j] ? (x * before) / after : x));
      }),
    );
  }
  const sign = Math.sign;
  const elections = names.map((_, t) => taus[0][t].map((_, j) => taus.reduce((s, tau, i) => s + (keep[i][t][j] ? (o.weightedElection ? weights[i] : 1) * tau[t][j] : 0), 0)));
  const globalMajority = sign(elections.reduce((s, e) => s + e.reduce((a, x) => a + sign(x), 0), 0));
  const out: Arrays = new Map();
  names.forEach((name, t) => {
    const majority = o.zeroSign === 'positive' ? 1 : o.trim === 'global' ? globalMajority : sign(elections[t].reduce((a, x) => a + sign(x), 0));
    const b = base.get(name)!;
    out.set(
      name,
      b.map((v, j) => {
        const s = elections[t][j] === 0 ? majority : sign(elections[t][j]);
        let num = 0;
        let den = 0;
        taus.forEach((tau, i) => {
          const x = tau[t][j];
          if (keep[i][t][j] && x !== 0 && sign(x) === s) {
            num += weights[i] * x;
            den += weights[i];
          }
        });
        return v + o.lambda * (o.normalize === false ? num : den > 0 ? num / den : 0);
      }),
    );
  });
  return out;
}

const RUNS = { numRuns: 12 };

describe('average', () => {
  it('is the weighted mean', async () => {
    await fc.assert(
      fc.asyncProperty(setupArb, async ({ models, weights }) => {
        const { tensors } = await mergeInMemory({ method: 'average', models, weights });
        expectClose(tensors, referenceAverage(models.map(floatsOf), weights));
      }),
      RUNS,
    );
  });

  it('returns the model when all models are identical', async () => {
    await fc.assert(
      fc.asyncProperty(setupArb, async ({ models, weights }) => {
        const copies = models.map(() => models[0]);
        const { tensors } = await mergeInMemory({ method: 'average', models: copies, weights, precision: 'float32', outputDtype: 'same' });
        expectClose(tensors, floatsOf(models[0]), 1e-7);
      }),
      RUNS,
    );
  });
});

describe('task_arithmetic', () => {
  it('is base + lambda * sum of weighted task vectors', async () => {
    await fc.assert(
      fc.asyncProperty(setupArb, fc.constantFrom(0.3, 1, -0.5), async ({ base, models, weights }, lambda) => {
        const { tensors } = await mergeInMemory({ method: 'task_arithmetic', parameters: { lambda }, base, models, weights });
        expectClose(tensors, referenceTaskArithmetic(floatsOf(base), models.map(floatsOf), weights, lambda));
      }),
      RUNS,
    );
  });

  it('returns the base with lambda = 0 and the average with lambda = 1/M', async () => {
    await fc.assert(
      fc.asyncProperty(setupArb, async ({ base, models }) => {
        const zero = await mergeInMemory({ method: 'task_arithmetic', parameters: { lambda: 0 }, base, models });
        expectClose(zero.tensors, floatsOf(base));
        const mean = await mergeInMemory({ method: 'task_arithmetic', parameters: { lambda: 1 / models.length }, base, models });
        expectClose(mean.tensors, referenceAverage(models.map(floatsOf), models.map(() => 1)));
      }),
      RUNS,
    );
  });
});

describe('ties', () => {
  for (const trim of ['per_tensor', 'global'] as const) {
    for (const election of ['unweighted', 'weighted'] as const) {
      it(`matches the reference (trim ${trim}, ${election} election)`, async () => {
        await fc.assert(
          fc.asyncProperty(setupArb, fc.constantFrom(0.1, 0.2, 0.5, 0.9, 1), async ({ base, models, weights }, density) => {
            const { tensors } = await mergeInMemory({ method: 'ties', parameters: { density, trim, sign_election: election, lambda: 0.7 }, base, models, weights });
            const expected = referenceTies(floatsOf(base), models.map(floatsOf), weights, { density, lambda: 0.7, trim, weightedElection: election === 'weighted' });
            expectClose(tensors, expected);
          }),
          RUNS,
        );
      });
    }
  }

  it('matches the reference with per-model densities, + at a zero election, no normalisation and the L1 rescale', async () => {
    await fc.assert(
      fc.asyncProperty(
        setupArb,
        fc.array(fc.constantFrom(0.2, 0.5, 0.9, 1), { minLength: 4, maxLength: 4 }),
        fc.constantFrom('majority', 'positive'),
        fc.boolean(),
        fc.boolean(),
        async ({ base, models, weights }, densities, zeroSign, normalize, l1) => {
          const parameters = { trim: 'per_tensor', sign_election: 'weighted', zero_sign: zeroSign, normalize, rescale: l1 ? 'l1' : 'none', lambda: 0.7 };
          const modelKnobs = models.map((_, i) => ({ density: densities[i] }));
          const { tensors } = await mergeInMemory({ method: 'ties', parameters, base, models, weights, modelKnobs });
          const expected = referenceTies(floatsOf(base), models.map(floatsOf), weights, { density: densities, lambda: 0.7, trim: 'per_tensor', weightedElection: true, zeroSign, normalize, l1Rescale: l1 });
          expectClose(tensors, expected, 1e-10);
        },
      ),
      RUNS,
    );
  });

  it('with density 1 and agreeing signs is lambda times the mean of the task vectors', async () => {
    const base: Fixture = { w: { dtype: 'F32', shape: [4], data: new Float32Array([0, 1, -1, 2]) } };
    const models: Fixture[] = [
      { w: { dtype: 'F32', shape: [4], data: new Float32Array([1, 2, -2, 2.5]) } },
      { w: { dtype: 'F32', shape: [4], data: new Float32Array([3, 1.5, -1.5, 3]) } },
    ];
    for (const trim of ['global', 'per_tensor']) {
      const { tensors } = await mergeInMemory({ method: 'ties', parameters: { density: 1, lambda: 0.5, trim }, base, models });
      // taus: [1, 1, -1, 0.5] and [3, 0.5, -0.5, 1]: means [2, 0.75, -0.75, 0.75]
      expectClose(tensors, new Map([['w', Float64Array.from([0 + 1, 1 + 0.375, -1 - 0.375, 2 + 0.375])]]));
    }
  });

  it('returns the model from identical models with density 1 and lambda 1', async () => {
    await fc.assert(
      fc.asyncProperty(setupArb, async ({ base, models }) => {
        const { tensors } = await mergeInMemory({ method: 'ties', parameters: { density: 1 }, base, models: models.map(() => models[0]) });
        expectClose(tensors, floatsOf(models[0]));
      }),
      RUNS,
    );
  });

  it('global trim over a one-tensor model equals per-tensor trim', async () => {
    await fc.assert(
      fc.asyncProperty(setupArb, fc.constantFrom(0.2, 0.5), async ({ base, models }, density) => {
        const name = Object.keys(base)[0];
        const only = (m: Fixture): Fixture => ({ [name]: m[name] });
        const a = await mergeInMemory({ method: 'ties', parameters: { density, trim: 'global' }, base: only(base), models: models.map(only) });
        const b = await mergeInMemory({ method: 'ties', parameters: { density, trim: 'per_tensor' }, base: only(base), models: models.map(only) });
        expectClose(a.tensors, b.tensors, 0);
      }),
      RUNS,
    );
  });
});

describe('dare', () => {
  const dropFor = (seed: number, p: number) => (i: number, name: string, tau: Float64Array) => applyDareDrop(tau, dareStreamKey(seed, i, name), 0, p, true);

  it('with task arithmetic matches base + lambda * sum of dropped, rescaled task vectors', async () => {
    await fc.assert(
      fc.asyncProperty(setupArb, fc.nat(1000), async ({ base, models, weights }, seed) => {
        const { tensors } = await mergeInMemory({ method: 'dare', parameters: { p: 0.5, lambda: 0.8 }, base, models, weights, seed });
        const dropped = models.map((m, i) => map(floatsOf(m), (name, x) => {
          const b = floatsOf(base).get(name)!;
          const tau = x.map((v, j) => v - b[j]);
          dropFor(seed, 0.5)(i, name, tau);
          return tau.map((t, j) => t + b[j]);
        }));
        expectClose(tensors, referenceTaskArithmetic(floatsOf(base), dropped, weights, 0.8));
      }),
      RUNS,
    );
  });

  it('with ties matches the TIES reference on dropped task vectors', async () => {
    await fc.assert(
      fc.asyncProperty(setupArb, fc.nat(1000), fc.constantFrom('global', 'per_tensor'), async ({ base, models, weights }, seed, trim) => {
        const parameters = { p: 0.3, combine: 'ties', density: 0.5, trim };
        const { tensors } = await mergeInMemory({ method: 'dare', parameters, base, models, weights, seed });
        const expected = referenceTies(floatsOf(base), models.map(floatsOf), weights, { density: 0.5, lambda: 1, trim: trim as 'global', weightedElection: false, drop: dropFor(seed, 0.3) });
        expectClose(tensors, expected);
      }),
      RUNS,
    );
  });

  it('with p = 0 equals task arithmetic and TIES', async () => {
    await fc.assert(
      fc.asyncProperty(setupArb, async ({ base, models }) => {
        const ta = await mergeInMemory({ method: 'task_arithmetic', parameters: { lambda: 0.4 }, base, models });
        const d1 = await mergeInMemory({ method: 'dare', parameters: { p: 0, lambda: 0.4 }, base, models });
        expectClose(d1.tensors, ta.tensors);
        const t = await mergeInMemory({ method: 'ties', parameters: { density: 0.5 }, base, models });
        const d2 = await mergeInMemory({ method: 'dare', parameters: { p: 0, combine: 'ties', density: 0.5 }, base, models });
        expectClose(d2.tensors, t.tensors);
      }),
      RUNS,
    );
  });

  it('drops about a fraction p, deterministically per seed, and a different seed drops differently', () => {
    const n = 20000;
    const p = 0.3;
    const draw = (seed: number, offset = 0, length = n) => {
      const tau = new Float64Array(length).fill(1);
      applyDareDrop(tau, dareStreamKey(seed, 0, 'w'), offset, p, true);
      return tau;
    };
    const a = draw(7);
    const dropped = a.filter((x) => x === 0).length;
    const sigma = Math.sqrt(n * p * (1 - p));
    expect(Math.abs(dropped - n * p)).toBeLessThan(5 * sigma);
    expect(a.every((x) => x === 0 || Math.abs(x - 1 / (1 - p)) < 1e-15)).toBe(true);
    expect(draw(7)).toEqual(a);
    expect(draw(8)).not.toEqual(a);
    // Chunks draw the same values as the whole.
    expect(Float64Array.from([...draw(7, 0, 5000), ...draw(7, 5000, 15000)])).toEqual(a);
    // Models and tensors draw independent streams.
    expect(dareStreamKey(7, 0, 'w')).not.toBe(dareStreamKey(7, 1, 'w'));
    expect(dareStreamKey(7, 0, 'w')).not.toBe(dareStreamKey(7, 0, 'v'));
  });
});

describe('chunking', () => {
  it('gives the same result as whole tensors for every elementwise method', async () => {
    await fc.assert(
      fc.asyncProperty(setupArb, fc.integer({ min: 1, max: 7 }), async ({ base, models, weights }, chunk) => {
        for (const [method, parameters] of [
          ['average', {}],
          ['task_arithmetic', { lambda: 0.5 }],
          ['ties', { density: 0.3 }],
          ['dare', { p: 0.4, combine: 'ties', density: 0.6 }],
        ] as const) {
          const whole = await mergeInMemory({ method, parameters, base, models, weights, seed: 3 });
          const chunked = await mergeInMemory({ method, parameters, base, models, weights, seed: 3, chunkElements: chunk });
          expectClose(chunked.tensors, whole.tensors, 0);
        }
      }),
      { numRuns: 6 },
    );
  });
});
