#!/usr/bin/env node
/**
 * `npm run demo`: trains the MNIST model zoo (cached), estimates its statistics, merges it with
 * every method through `mats merge`, and prints the table of test accuracies. Writes
 * examples/out/results.json, examples/out/report.html and the merge configs.
 *
 *   node examples/dist/demo.js [--ci | --zoo NAME] [--spawn] [--methods a,b] [--no-ablations] [--cache DIR] [--out DIR] [--fresh]
 */
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runDemo } from './zoo/run-demo.js';
import { CI_ZOO, ZOOS, zooKey } from './zoo/zoo-config.js';

const examplesDir = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({
  options: {
    ci: { type: 'boolean', default: false },
    zoo: { type: 'string', default: 'full' },
    'no-ablations': { type: 'boolean', default: false },
    spawn: { type: 'boolean', default: false },
    methods: { type: 'string' },
    cache: { type: 'string', default: join(examplesDir, '.cache') },
    out: { type: 'string', default: join(examplesDir, 'out') },
    fresh: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  process.stdout.write(`usage: npm run demo -- [options]
  --ci            the reduced zoo CI runs (smaller MLP, a quarter of the digits); same as --zoo ci
  --zoo NAME      which zoo: ${[...ZOOS.keys()].join(', ')} (default full; the others check that the
                  plans are not tuned to the demo's zoo: other seeds, widths and tasks)
  --spawn         run every merge as a child process of the built mats bin (default: runCli in this process)
  --methods LIST  only these merge rows, comma-separated (e.g. average,ties)
  --no-ablations  skip the ablation merges of the chosen rows
  --cache DIR     trained zoo, statistics and merges (default examples/.cache)
  --out DIR       results.json, report.html, configs/ (default examples/out)
  --fresh         retrain this zoo and redo its merges instead of using the cache
`);
  process.exit(0);
}

const config = values.ci ? CI_ZOO : ZOOS.get(values.zoo!);
if (config === undefined) {
  process.stderr.write(`error: unknown zoo '${values.zoo}' (zoos: ${[...ZOOS.keys()].join(', ')})\n`);
  process.exit(1);
}
const cacheDir = resolve(values.cache!);
if (values.fresh) {
  await rm(join(cacheDir, zooKey(config)), { recursive: true, force: true });
  await rm(join(cacheDir, 'merges'), { recursive: true, force: true });
}
const start = performance.now();
const results = await runDemo({
  config,
  cacheDir,
  outDir: resolve(values.out!),
  mergeMode: values.spawn ? 'spawn' : 'in-process',
  methods: values.methods?.split(','),
  ablations: !values['no-ablations'],
  log: (line) => process.stdout.write(`${line}\n`),
});
process.stdout.write(`\nwrote ${join(resolve(values.out!), 'results.json')} and report.html in ${((performance.now() - start) / 1000).toFixed(1)} s (zoo ${results.zoo})\n`);
