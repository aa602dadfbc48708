import { assertClose, randomArray } from '@mats/core/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LinearLayerStatistics, ModelStatistics, ParameterGradientStatistics, type NamedStatistic } from '../src/index.js';
import {
  referenceColumnMeans,
  maxAbs,
  referenceDiagonalFisher,
  referenceGram,
  referencePerExampleWeightGradients,
  referenceSegmentSums,
} from './statistics-reference.js';

const RTOL = 1e-10;

/** A random layer batch: T tokens split into examples, inputs [T, in], output gradients [T, out]. */
const layerBatch = fc
  .record({
    inFeatures: fc.integer({ min: 1, max: 7 }),
    outFeatures: fc.integer({ min: 1, max: 6 }),
    tokensPerExample: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 8 }),
    seed: fc.integer(),
  })
  .map(({ inFeatures, outFeatures, tokensPerExample, seed }) => {
    const tokens = tokensPerExample.reduce((p, q) => p + q, 0);
    return {
      inFeatures,
      outFeatures,
      tokensPerExample,
      tokens,
      inputs: randomArray(tokens * inFeatures, seed),
      grads: randomArray(tokens * outFeatures, seed + 1),
    };
  });

function byKind(statistics: NamedStatistic[]): Map<string, NamedStatistic> {
  return new Map(statistics.map((s) => [s.key, s]));
}

function expectClose(actual: NamedStatistic | undefined, expected: Float64Array, shape: number[]): void {
  expect(actual, 'statistic present').toBeDefined();
  expect(actual!.shape).toEqual(shape);
  assertClose(actual!.data, expected, RTOL, RTOL * maxAbs(expected), actual!.key);
}

describe('LinearLayerStatistics', () => {
  it('matches the definitions: Grams over tokens, Fishers over per-example gradients', () => {
    fc.assert(
      fc.property(layerBatch, fc.boolean(), (batch, oneTokenPerExample) => {
        const { inFeatures: n, outFeatures: m, inputs, grads, tokens } = batch;
        const segments = oneTokenPerExample ? Array.from({ length: tokens }, () => 1) : batch.tokensPerExample;
        const layer = new LinearLayerStatistics({ weight: 'fc.weight', bias: 'fc.bias', inFeatures: n, outFeatures: m });
        layer.add(inputs, grads, oneTokenPerExample ? undefined : segments);
        expect(layer.examples).toBe(segments.length);
        expect(layer.tokens).toBe(tokens);

        const stats = byKind(layer.statistics());
        expect([...stats.keys()].sort()).toEqual(
          ['fc.bias::fisher', 'fc.bias::fisher_block', 'fc.weight::fisher', 'fc.weight::grad_gram', 'fc.weight::input_gram', 'fc.weight::input_mean'].sort(),
        );
        const dW = referencePerExampleWeightGradients(inputs, grads, n, m, segments);
        const db = referenceSegmentSums(grads, m, segments);
        expectClose(stats.get('fc.weight::fisher'), referenceDiagonalFisher(dW, segments.length, m * n), [m, n]);
        expectClose(stats.get('fc.weight::input_gram'), referenceGram(inputs, tokens, n), [n, n]);
        expectClose(stats.get('fc.weight::grad_gram'), referenceGram(grads, tokens, m), [m, m]);
        // The mean input over the same tokens as A: [[A, m], [m^T, 1]] is the Gram of [a; 1].
        expectClose(stats.get('fc.weight::input_mean'), referenceColumnMeans(inputs, tokens, n), [n]);
        expectClose(stats.get('fc.bias::fisher'), referenceDiagonalFisher(db, segments.length, m), [m]);
        expectClose(stats.get('fc.bias::fisher_block'), referenceGram(db, segments.length, m), [m, m]);
      }),
    );
  });

  it("with one token per example, a bias's Fisher is the mean of squared output gradients and its block's diagonal", () => {
    fc.assert(
      fc.property(layerBatch, ({ inFeatures, outFeatures: m, inputs, grads, tokens }) => {
        const layer = new LinearLayerStatistics({ weight: 'w', bias: 'b', inFeatures, outFeatures: m });
        layer.add(inputs, grads);
        const stats = byKind(layer.statistics());
        const meanSquares = new Float64Array(m);
        for (let t = 0; t < tokens; t++) for (let j = 0; j < m; j++) meanSquares[j] += grads[t * m + j] ** 2 / tokens;
        expectClose(stats.get('b::fisher'), meanSquares, [m]);
        const block = stats.get('b::fisher_block')!.data;
        assertClose(Float64Array.from({ length: m }, (_, j) => block[j * m + j]), stats.get('b::fisher')!.data, RTOL, 0, 'block diagonal');
      }),
    );
  });

  it('follows the K-FAC convention: for one example, G V A = <dW, V> dW with dW = g a^T, and the diagonal Fisher is diag(G) diag(A)^T', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 6 }), fc.integer(), (n, m, seed) => {
        const a = randomArray(n, seed);
        const g = randomArray(m, seed + 1);
        const v = randomArray(m * n, seed + 2); // a direction in the space of W [out, in]
        const layer = new LinearLayerStatistics({ weight: 'w', inFeatures: n, outFeatures: m });
        layer.add(a, g);
        const stats = byKind(layer.statistics());
        const A = stats.get('w::input_gram')!.data;
        const G = stats.get('w::grad_gram')!.data;
        // G V A, [out, out] x [out, in] x [in, in]
        const gva = new Float64Array(m * n);
        for (let i = 0; i < m; i++)
          for (let j = 0; j < n; j++) {
            let s = 0;
            for (let p = 0; p < m; p++) for (let q = 0; q < n; q++) s += G[i * m + p] * v[p * n + q] * A[q * n + j];
            gva[i * n + j] = s;
          }
        // The exact Fisher of one example applied to V: vec(dW) vec(dW)^T vec(V).
        const dW = Float64Array.from({ length: m * n }, (_, k) => g[Math.floor(k / n)] * a[k % n]);
        const inner = dW.reduce((s, x, k) => s + x * v[k], 0);
        assertClose(gva, dW.map((x) => inner * x), 1e-10, 1e-12 * maxAbs(dW) ** 2 * maxAbs(v) * m * n, 'G V A');
        const outer = Float64Array.from({ length: m * n }, (_, k) => G[Math.floor(k / n) * (m + 1)] * A[(k % n) * (n + 1)]);
        assertClose(stats.get('w::fisher')!.data, outer, RTOL, 0, 'fisher of one example');
      }),
    );
  });

  it('accumulating in batches equals accumulating at once', () => {
    fc.assert(
      fc.property(layerBatch, fc.nat(), (batch, cutAt) => {
        const { inFeatures: n, outFeatures: m, inputs, grads, tokensPerExample } = batch;
        const options = { weight: 'w', bias: 'b', inFeatures: n, outFeatures: m };
        const whole = new LinearLayerStatistics(options);
        whole.add(inputs, grads, tokensPerExample);
        // Cut between examples: the first `cut` examples, then the rest.
        const cut = cutAt % (tokensPerExample.length + 1);
        const rowsBefore = tokensPerExample.slice(0, cut).reduce((p, q) => p + q, 0);
        const pieces = new LinearLayerStatistics(options);
        pieces.add(inputs.subarray(0, rowsBefore * n), grads.subarray(0, rowsBefore * m), tokensPerExample.slice(0, cut));
        pieces.add(inputs.subarray(rowsBefore * n), grads.subarray(rowsBefore * m), tokensPerExample.slice(cut));
        expect(pieces.examples).toBe(whole.examples);
        const expected = byKind(whole.statistics());
        for (const s of pieces.statistics()) expectClose(s, expected.get(s.key)!.data, [...s.shape]);
      }),
    );
  });

  it('gives the same diagonal Fisher as per-example parameter gradients fed to ParameterGradientStatistics', () => {
    fc.assert(
      fc.property(layerBatch, ({ inFeatures: n, outFeatures: m, inputs, grads, tokensPerExample }) => {
        const layer = new LinearLayerStatistics({ weight: 'w', inFeatures: n, outFeatures: m, kfac: false });
        layer.add(inputs, grads, tokensPerExample);
        const generic = new ParameterGradientStatistics('w', [m, n]);
        generic.add(referencePerExampleWeightGradients(inputs, grads, n, m, tokensPerExample));
        const [fromLayer] = layer.statistics();
        const [fromGradients] = generic.statistics();
        expect(fromGradients.key).toBe('w::fisher');
        expectClose(fromLayer, fromGradients.data, [m, n]);
      }),
    );
  });

  it('names the layer and the fault in bad input', () => {
    const layer = new LinearLayerStatistics({ weight: 'enc.q.weight', inFeatures: 3, outFeatures: 2 });
    expect(() => layer.add(new Float64Array(6), new Float64Array(6))).toThrow(
      /enc\.q\.weight: 2 rows of inputs \[T, 3\] but 3 rows of output gradients \[T, 2\]/,
    );
    expect(() => layer.add(new Float64Array(6), new Float64Array(4), [1, 2])).toThrow(/adds up to 3 tokens but the batch has 2 rows/);
    expect(() => layer.add(new Float64Array(6), new Float64Array(4), [2, 0])).toThrow(/tokensPerExample\[1\] = 0/);
    expect(() => layer.statistics()).toThrow(/enc\.q\.weight: no examples/);
    expect(() => new LinearLayerStatistics({ weight: 'x', inFeatures: 0, outFeatures: 2 })).toThrow(/x: inFeatures must be a positive integer/);
  });
});

describe('ParameterGradientStatistics', () => {
  it('estimates a 1-D parameter\'s block only where asked, and refuses a block of a matrix', () => {
    const ln = new ParameterGradientStatistics('ln.weight', [3]);
    ln.add(Float64Array.from([1, 2, 3, -1, 0, 1]));
    const [fisher, block] = ln.statistics();
    assertClose(fisher.data, [1, 2, 5], RTOL, 0, 'fisher');
    assertClose(block.data, [1, 1, 1, 1, 2, 3, 1, 3, 5], RTOL, 0, 'block');
    const noBlock = new ParameterGradientStatistics('ln.bias', [3], { block: false });
    noBlock.add(Float64Array.from([1, 2, 3]));
    expect(noBlock.statistics().map((s) => s.key)).toEqual(['ln.bias::fisher']);
    expect(() => new ParameterGradientStatistics('emb', [4, 2], { block: true })).toThrow(/emb: a fisher_block is only estimated for 1-D parameters/);
  });
});

describe('ModelStatistics', () => {
  it('collects every source, records n_examples, and refuses mismatched counts and duplicate keys', () => {
    const model = new ModelStatistics();
    const fc1 = model.linear({ weight: 'fc1.weight', bias: 'fc1.bias', inFeatures: 2, outFeatures: 2 });
    const ln = model.parameter('ln.weight', [2]);
    fc1.add(Float64Array.from([1, 0, 0, 1, 1, 1]), Float64Array.from([1, 2, 3, 4, 5, 6]));
    expect(() => model.metadata()).toThrow(/fc1\.weight: 3, ln\.weight: 0/);
    ln.add(Float64Array.from([1, 1, 2, 2, 3, 3]));
    expect(model.metadata()).toEqual({ n_examples: '3' });
    expect(model.statistics().map((s) => s.key)).toEqual([
      'fc1.weight::fisher',
      'fc1.weight::input_gram',
      'fc1.weight::grad_gram',
      'fc1.weight::input_mean',
      'fc1.bias::fisher',
      'fc1.bias::fisher_block',
      'ln.weight::fisher',
      'ln.weight::fisher_block',
    ]);
    model.parameter('fc1.bias', [2]).add(Float64Array.from([1, 1, 2, 2, 3, 3]));
    expect(() => model.statistics()).toThrow(/fc1\.bias::fisher is estimated by two sources/);
  });
});
