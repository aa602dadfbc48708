import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createCpuBackend } from '@mats/backend-cpu';
import { runCli } from '@mats/merge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accuracy } from '../src/mlp/evaluate.js';
import type { DemoResults } from '../src/report/results.js';
import { loadMergedCheckpoint } from '../src/zoo/load-merged.js';
import { matsBinPath, MergeRunner } from '../src/zoo/merge-runner.js';
import { zooNames } from '../src/zoo/prepare-zoo.js';
import { runDemo } from '../src/zoo/run-demo.js';
import { SafetensorsStore } from '../src/zoo/safetensors-store.js';
import { CI_ZOO, zooKey } from '../src/zoo/zoo-config.js';
import { buildZooData } from '../src/zoo/zoo-data.js';

/**
 * The reduced demo end to end (a 784-32-10 MLP on a quarter of the digits): train, estimate
 * statistics, merge with every method through `mats merge`, choose knobs on
 * validation data, test. A sanity check of the whole path, not of a tuned ranking.
 */
describe('demo (reduced zoo, end to end)', () => {
  let work: string;
  let results: DemoResults;
  const options = () => ({ config: CI_ZOO, cacheDir: join(work, 'cache'), outDir: join(work, 'out'), mergeMode: 'in-process' as const, log: () => undefined });

  // The whole reduced demo: on a loaded shared machine it can take minutes, not the default two.
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'mats-demo-'));
    results = await runDemo(options());
  }, 1_800_000);
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  const chance = 0.1;

  it('trains individual models that beat the base on their own tasks', () => {
    const row = (label: string) => results.rows.find((r) => r.label === label)!;
    expect(row('individual').meanTestAccuracy).toBeGreaterThan(row('base').meanTestAccuracy + 0.1);
    expect(row('multitask').meanTestAccuracy).toBeGreaterThan(row('base').meanTestAccuracy);
  });

  it('merges with every method and every merged model beats chance', () => {
    const merges = results.rows.filter((r) => r.kind === 'merge');
    expect(merges.map((r) => r.label)).toEqual(['average', 'task_arithmetic', 'ties', 'dare', 'breadcrumbs', 'fisher', 'regmean', 'mats gram', 'mats kfac']);
    for (const row of merges) {
      expect(row.testAccuracy).toHaveLength(CI_ZOO.tasks.length);
      expect(row.meanTestAccuracy, row.label).toBeGreaterThan(2 * chance);
      // Knobs were chosen on validation data: the chosen candidate is the best validation score
      // (mats kfac's among the candidates that meet its per-task floor, when any does).
      const floor = row.label === 'mats kfac' ? merges.find((r) => r.label === 'regmean')!.validationTaskAccuracy!.map((a) => a - 0.05 - 1e-9) : undefined;
      const admissible = row.candidates!.filter((c) => floor === undefined || c.validationTaskAccuracy.every((a, i) => a >= floor[i]));
      const pool = admissible.length > 0 ? admissible : row.candidates!;
      expect(row.validationAccuracy).toBe(Math.max(...pool.map((c) => c.validationAccuracy)));
      if (floor !== undefined && admissible.length > 0) row.validationTaskAccuracy!.forEach((a, i) => expect(a).toBeGreaterThanOrEqual(floor[i]));
      // The best mean over every candidate is recorded exactly when the floor passed it over.
      const bestMean = Math.max(...row.candidates!.map((c) => c.validationAccuracy));
      if (row.validationAccuracy! < bestMean) expect(row.unconstrained?.validationAccuracy).toBe(bestMean);
      else expect(row.unconstrained).toBeUndefined();
    }
  });

  it('runs the ablations of the chosen rows and reports the chosen K-FAC systems per layer', () => {
    expect(results.ablations.map((a) => a.of)).toContain('mats kfac');
    expect(results.ablations.map((a) => a.of)).toContain('regmean');
    for (const a of results.ablations) expect(a.testAccuracy).toHaveLength(CI_ZOO.tasks.length);
    // The empirical-Fisher ablation names the other statistics set.
    expect(results.ablations.find((a) => a.label.startsWith('empirical'))?.statistics).toBe('empirical');
    // Every weight matrix of the chosen K-FAC merge: per-task traces, summed conditioning, CG residuals.
    expect(results.diagnostics.map((d) => d.parameter)).toEqual(['layers.0.weight', 'layers.1.weight']);
    for (const d of results.diagnostics) {
      expect(d.tasks).toHaveLength(CI_ZOO.tasks.length);
      for (const t of d.tasks) expect(t.gradTrace! > 0 && t.inputTrace! > 0).toBe(true);
      expect(d.gradCondition).toBeGreaterThanOrEqual(1);
      expect(d.relativeResiduals[0]).toBe(1);
    }
  });

  it('writes results.json, report.html and a readable config per method', async () => {
    const written = JSON.parse(await readFile(join(work, 'out', 'results.json'), 'utf8')) as DemoResults;
    expect(written.rows.map((r) => r.meanTestAccuracy)).toEqual(results.rows.map((r) => r.meanTestAccuracy));
    expect(await readFile(join(work, 'out', 'report.html'), 'utf8')).toContain('<svg');
    const tiesConfig = join(work, 'out', 'configs', 'ties.yaml');
    const ties = await readFile(tiesConfig, 'utf8');
    expect(ties).toMatch(/^method: ties$/m);
    expect(ties).toMatch(/density: /);
    // The kept config reruns by hand, as its header says, and gives the chosen merge's test accuracy.
    const quiet = new Writable({ write: (_chunk, _encoding, done) => done() }) as unknown as NodeJS.WriteStream;
    expect(await runCli(['merge', tiesConfig, '--out', join(work, 'by-hand'), '--quiet'], { stdout: quiet, stderr: quiet })).toBe(0);
    const byHand = await loadMergedCheckpoint(createCpuBackend('float64'), join(work, 'by-hand'));
    const data = buildZooData(CI_ZOO);
    expect(data.test.map((set) => accuracy(byHand, set))).toEqual(results.rows.find((r) => r.label === 'ties')!.testAccuracy);
  });

  it('a second run reuses the cache: nothing is trained or merged again, and the numbers are the same', async () => {
    const again = await runDemo(options());
    expect(again.training.every((t) => !t.trainedNow)).toBe(true);
    expect(again.merges.run).toBe(0);
    expect(again.merges.reused).toBe(results.merges.run + results.merges.reused);
    expect(again.rows.map((r) => r.testAccuracy)).toEqual(results.rows.map((r) => r.testAccuracy));
    // Reading and evaluating every cached merge again takes minutes on a loaded machine.
  }, 900_000);

  describe('merges that must agree', () => {
    const runner = (mode: 'in-process' | 'spawn', tag: string) => {
      const store = new SafetensorsStore(join(work, 'cache', zooKey(CI_ZOO)));
      return new MergeRunner({
        // One config folder: the config text (with its relative paths) goes into the output's metadata.
        configDir: join(work, 'agree'),
        cacheDir: join(work, 'agree', `merges-${tag}`),
        base: store.pathOf(zooNames.base),
        models: CI_ZOO.tasks.map((t) => store.pathOf(zooNames.task(t))),
        statistics: { true: CI_ZOO.tasks.map((t) => store.pathOf(zooNames.statistics(t, 'true', CI_ZOO.statistics.examples))) },
        precision: 'float64',
        inputsKey: zooKey(CI_ZOO),
        mode,
      });
    };
    const backend = createCpuBackend('float64');
    const parameters = async (folder: string) => (await loadMergedCheckpoint(backend, folder)).toNamedArrays();

    it('average equals task_arithmetic with lambda = 1/M (float32 outputs)', async () => {
      const r = runner('in-process', 'ta');
      const average = await parameters((await r.merge({ label: 'average', method: 'average', parameters: {}, statistics: false })).folder);
      const ta = await parameters((await r.merge({ label: 'ta', method: 'task_arithmetic', parameters: { lambda: 1 / CI_ZOO.tasks.length }, statistics: false })).folder);
      for (const [name, value] of average) {
        const other = ta.get(name)!.data;
        value.data.forEach((v, i) => expect(Math.abs(v - other[i]), name).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(v))));
      }
    });

    /** Largest |x - y| over every tensor, relative to the largest |x|. */
    async function relativeDifference(a: string, b: string): Promise<number> {
      const [x, y] = await Promise.all([parameters(a), parameters(b)]);
      let diff = 0;
      let scale = 0;
      for (const [name, value] of x) {
        const other = y.get(name)!.data;
        value.data.forEach((v, i) => {
          diff = Math.max(diff, Math.abs(v - other[i]));
          scale = Math.max(scale, Math.abs(v));
        });
      }
      return diff / scale;
    }

    it('converged mats equals the closed forms: gram = regmean, diagonal = fisher (METHODS.md)', async () => {
      const r = runner('in-process', 'closed');
      const solve = { iterations: 2000, rtol: 1e-10, init: 'zeros' };
      const gramKnobs = { shrink: 0.9, damping: 1e-6 };
      const regmean = await r.merge({ label: 'regmean', method: 'regmean', parameters: gramKnobs, statistics: true });
      const gram = await r.merge({ label: 'mats-gram', method: 'mats', parameters: { subspace: 'gram', ...gramKnobs, ...solve }, statistics: true });
      const fisher = await r.merge({ label: 'fisher', method: 'fisher', parameters: {}, statistics: true });
      const diagonal = await r.merge({ label: 'mats-diagonal', method: 'mats', parameters: { subspace: 'diagonal', ...solve }, statistics: true });
      // float64 solves, float32 outputs: agreement to float32 rounding plus the solver tolerance.
      expect(await relativeDifference(regmean.folder, gram.folder)).toBeLessThan(1e-5);
      expect(await relativeDifference(fisher.folder, diagonal.folder)).toBeLessThan(1e-5);
      // ...and they are not all the same model: the subspace matters.
      expect(await relativeDifference(regmean.folder, fisher.folder)).toBeGreaterThan(1e-2);
    });

    it('the spawned mats bin writes the same checkpoint as the in-process call', async () => {
      expect(existsSync(matsBinPath()), `${matsBinPath()} is missing: run npm run build first`).toBe(true);
      const request = { label: 'ties', method: 'ties', parameters: { density: 0.2, lambda: 1 }, statistics: false };
      const inProcess = await runner('in-process', 'a').merge(request);
      const spawned = await runner('spawn', 'b').merge(request);
      expect(spawned.cached).toBe(false);
      const [x, y] = await Promise.all([inProcess, spawned].map((o) => readFile(join(o.folder, 'model.safetensors'))));
      expect(Buffer.compare(x, y)).toBe(0);
    });
  });
});
