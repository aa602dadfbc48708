/**
 * Per-model knobs (density under a model, as weight) and per-tensor values (layer gradients,
 * filtered lists), through the real pipeline, against references written here from METHODS.md.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expectTensorsClose, floatsOf, mergeInMemory, mergeProblemArbitrary, type Fixture } from '@mats/merge/testing';
import { gradientAt, valueAt } from '../src/config/tensor-values.js';
import { layerPositions } from '../src/config/layer-position.js';
import { applyDareDrop, dareStreamKey } from '../src/methods/dare-mask.js';
import { ValidationError } from '../src/errors.js';

type Arrays = Map<string, Float64Array>;

/** A small layered model: two layers of two tensors, an embedding and a norm. */
const LAYERED: Record<string, number[]> = { 'embed.weight': [3, 2], 'layers.0.mlp.w': [2, 3], 'layers.0.attn.w': [4], 'layers.1.mlp.w': [2, 3], 'layers.1.attn.w': [4], 'norm.weight': [5] };
const NAMES = LAYERED;
const setupArb = mergeProblemArbitrary({ shapes: fc.constant(LAYERED), maxModels: 3, weights: [0.5, 1, 2], steps: 16 });
const expectClose = expectTensorsClose;

const tausOf = (base: Arrays, model: Arrays) => new Map([...model].map(([n, x]) => [n, x.map((v, j) => v - base.get(n)![j])]));

const RUNS = { numRuns: 10 };

describe('per-model knobs', () => {
  it('a knob given under every model merges as the same value given once', async () => {
    await fc.assert(
      fc.asyncProperty(setupArb, fc.constantFrom(0.3, 0.6), async ({ base, models, weights }, value) => {
        for (const [method, knob, extra] of [
          ['ties', 'density', { trim: 'per_tensor' }],
          ['ties', 'density', {}],
          ['dare', 'p', { combine: 'ties', trim: 'global' }],
          ['breadcrumbs', 'gamma', {}],
        ] as const) {
          const once = await mergeInMemory({ method, parameters: { ...extra, [knob]: value }, base, models, weights, seed: 5 });
          const each = await mergeInMemory({ method, parameters: extra, base, models, weights, seed: 5, modelKnobs: models.map(() => ({ [knob]: value })) });
          expectClose(each.tensors, once.tensors, 0);
        }
      }),
      { numRuns: 4 },
    );
  });

  it('dare drops each model with its own p', async () => {
    await fc.assert(
      fc.asyncProperty(setupArb, fc.nat(100), async ({ base, models, weights }, seed) => {
        const ps = [0.2, 0.5, 0.8];
        const { tensors } = await mergeInMemory({ method: 'dare', parameters: { rescale: 'none' }, base, models, weights, seed, modelKnobs: models.map((_, i) => ({ p: ps[i] })) });
        const b = floatsOf(base);
        const expected: Arrays = new Map([...b].map(([name, x]) => [name, Float64Array.from(x)]));
        models.forEach((m, i) => {
          for (const [name, tau] of tausOf(b, floatsOf(m))) {
            applyDareDrop(tau, dareStreamKey(seed, i, name), 0, ps[i], false);
            tau.forEach((t, j) => (expected.get(name)![j] += weights[i] * t));
          }
        });
        expectClose(tensors, expected, 1e-6);
      }),
      RUNS,
    );
  });

  it('a knob the method does not take per model is refused by name, with a did-you-mean', async () => {
    const m: Fixture = { w: { dtype: 'F32', shape: [2], data: Float32Array.from([1, 2]) } };
    await expect(mergeInMemory({ method: 'ties', base: m, models: [m], modelKnobs: [{ densty: 0.5 }] })).rejects.toThrow(/models\[0\]\.densty: unknown key; did you mean 'density'\? \(model keys: path, stats, weight; per-model knobs of ties: density\)/);
    await expect(mergeInMemory({ method: 'ties', base: m, models: [m], modelKnobs: [{ lambda: 0.5 }] })).rejects.toThrow(/models\[0\]\.lambda: unknown key .*per-model knobs of ties: density/);
    await expect(mergeInMemory({ method: 'ties', base: m, models: [m], modelKnobs: [{ density: 1.5 }] })).rejects.toThrow(/models\[0\]\.density: .*<=1.* \(method ties\)/);
  });
});

describe('per-tensor values', () => {
  it('interpolate a gradient as mergekit does, at t = layer / (layers - 1), and pick the first matching filter', () => {
    expect(gradientAt([0, 1], 0.5)).toBe(0.5);
    expect(gradientAt([1, 0.7, 0.1], 0)).toBe(1);
    expect(gradientAt([1, 0.7, 0.1], 1)).toBe(0.1);
    expect(gradientAt([1, 0.7, 0.1], 0.75)).toBeCloseTo(0.4, 15);
    expect(valueAt([{ filter: 'mlp', value: 0.5 }, { value: 0 }], 'layers.0.mlp.w', 0)).toBe(0.5);
    expect(valueAt([{ filter: 'mlp', value: 0.5 }, { value: 0 }], 'layers.0.attn.w', 0)).toBe(0);
    expect(valueAt([{ filter: 'mlp', value: 0.5 }], 'norm.weight', 0)).toBeUndefined();
    expect(valueAt([{ filter: 'mlp', value: [0, 1] }, { filter: '*', value: 3 }], 'layers.1.mlp.w', 1)).toBe(1);
    const { positions, problems } = layerPositions(['model.embed_tokens.weight', 'model.layers.0.a', 'model.layers.1.a', 'model.layers.2.a', 'model.layers.2.experts.7.w', 'lm_head.weight']);
    expect(problems).toEqual([]);
    expect([...positions.values()]).toEqual([0, 0, 0.5, 1, 1, 0]);
    expect(layerPositions(['layers.0.a', 'layers.2.a']).problems[0]).toMatch(/the layers of layers are not numbered 0\.\.1 \(found 0, 2\)/);
  });

  it('a weight gradient and a filtered weight merge each tensor with its own weights', async () => {
    await fc.assert(
      fc.asyncProperty(setupArb, async ({ models }) => {
        const weights = models.map((_, i) => (i === 0 ? [0.25, 1] : [{ filter: 'mlp', value: 2 }, { value: 0.5 }]));
        const { tensors } = await mergeInMemory({ method: 'average', models, weights });
        const t = (name: string) => (name.startsWith('layers.1') ? 1 : 0);
        const expected: Arrays = new Map();
        for (const name of Object.keys(NAMES)) {
          const w = weights.map((v) => valueAt(v as never, name, t(name))!);
          const total = w.reduce((a, b) => a + b, 0);
          expected.set(name, floatsOf(models[0]).get(name)!.map((_, j) => models.reduce((s, m, i) => s + w[i] * floatsOf(m).get(name)![j], 0) / total));
        }
        expectClose(tensors, expected, 1e-12);
      }),
      RUNS,
    );
  });

  it('a per-tensor density equals merging each tensor with its own value; no match falls back to the global one', async () => {
    await fc.assert(
      fc.asyncProperty(setupArb, async ({ base, models, weights }) => {
        const density = [{ filter: 'mlp', value: [0.2, 0.9] }, { filter: 'attn', value: 0.5 }];
        const varied = await mergeInMemory({ method: 'ties', parameters: { trim: 'per_tensor', density: 0.3 }, base, models, weights, modelKnobs: models.map(() => ({ density })) });
        for (const [name, value] of [['layers.0.mlp.w', 0.2], ['layers.1.mlp.w', 0.9], ['layers.0.attn.w', 0.5], ['embed.weight', 0.3], ['norm.weight', 0.3]] as const) {
          const only = (m: Fixture): Fixture => ({ [name]: m[name] });
          const single = await mergeInMemory({ method: 'ties', parameters: { trim: 'per_tensor', density: value }, base: only(base), models: models.map(only), weights });
          expectClose(new Map([[name, varied.tensors.get(name)!]]), single.tensors, 0);
        }
      }),
      { numRuns: 4 },
    );
  });

  it('is refused where a whole-model pass needs one value, and where a weight matches no filter', async () => {
    const m: Fixture = { 'layers.0.w': { dtype: 'F32', shape: [2], data: Float32Array.from([1, 2]) }, 'layers.1.w': { dtype: 'F32', shape: [2], data: Float32Array.from([3, 4]) } };
    const global = mergeInMemory({ method: 'ties', parameters: { density: [0.2, 0.4] }, base: m, models: [m] });
    await expect(global).rejects.toBeInstanceOf(ValidationError);
    await expect(global).rejects.toThrow(/parameters: ties with these parameters makes passes over the whole model, so its knobs cannot vary by tensor \(parameters\.density\); give them one value, or use trim: per_tensor/);
    await expect(mergeInMemory({ method: 'average', models: [m, m], weights: [[{ filter: 'layers.0', value: 1 }], 1] })).rejects.toThrow(/models\[0\]\.weight: no entry of its list applies \(add one without filter\) \(1\): layers\.1\.w/);
    await expect(mergeInMemory({ method: 'ties', parameters: { trim: 'per_tensor', density: [0.5, 1.5] }, base: m, models: [m] })).rejects.toThrow(/parameters\.density: .*<=1 \(method ties\) \(1\): layers\.1\.w/);
  });
});
