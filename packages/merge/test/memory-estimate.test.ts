/**
 * The dry run's peak-memory estimate against the peak a merge reaches: the built `mats` runs in
 * a child process (its own resident set, measured by Node's resourceUsage().maxRSS) on models
 * with a 16 MB tensor, for a chunked method and for whole-tensor ones. Within 25% (issue 17) of
 * the larger peak of two runs.
 * bench/src/merge-memory.ts measures the same on larger checkpoints and the demo's merges.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { randomValues, tempFolder, writeModelFile, type Fixture } from '@mats/merge/testing';

const BUILT = fileURLToPath(new URL('../dist/cli/run-cli.js', import.meta.url));

/** Runs the built CLI in a child process; returns its stdout and its peak resident set in bytes. */
function runBuilt(args: string[]): { stdout: string; maxRss: number } {
  const script = [
    `const { runCli } = await import(${JSON.stringify(BUILT)});`,
    `const code = await runCli(${JSON.stringify(args)});`,
    `process.stderr.write('maxrss ' + process.resourceUsage().maxRSS + '\\n');`,
    'process.exitCode = code;',
  ].join('\n');
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (child.status !== 0) throw new Error(`mats ${args.join(' ')} failed (${child.status}): ${child.stderr}`);
  const rss = /maxrss (\d+)/.exec(child.stderr);
  if (rss === null) throw new Error(`no maxrss in ${child.stderr}`);
  return { stdout: child.stdout, maxRss: Number(rss[1]) * 1024 };
}

/** "estimated peak memory: 1.23 GB resident ..." -> bytes. */
function estimateIn(stdout: string): number {
  const m = /^estimated peak memory: ([\d.]+) (B|KB|MB|GB)/m.exec(stdout);
  if (m === null) throw new Error(`no estimate in ${stdout}`);
  return Number(m[1]) * { B: 1, KB: 1e3, MB: 1e6, GB: 1e9 }[m[2] as 'B'];
}

function model(seed: number): Fixture {
  return {
    'embed.weight': { dtype: 'F32', shape: [4096, 1024], data: randomValues(4096 * 1024, seed) },
    'layers.0.w': { dtype: 'F32', shape: [512, 512], data: randomValues(512 * 512, seed + 1) },
    'layers.1.w': { dtype: 'F32', shape: [512, 512], data: randomValues(512 * 512, seed + 2) },
  };
}

// The child runs the built package (npm test builds first); without a build there is nothing to measure.
describe.skipIf(!existsSync(BUILT))('the dry run\'s peak-memory estimate (the built CLI; npm run build first)', () => {
  for (const [method, parameters] of [
    ['task_arithmetic', 'lambda: 0.5'],
    ['ties', 'trim: per_tensor'],
    ['breadcrumbs', 'density: 0.5'],
  ] as const) {
    it(`is within 25% of the peak resident set of the merge: ${method}`, async () => {
      const dir = await tempFolder();
      for (const [name, seed] of [['base', 1], ['a', 10], ['b', 20], ['c', 30]] as const) await writeModelFile(join(dir, `${name}.safetensors`), model(seed));
      await writeFile(join(dir, 'm.yaml'), `method: ${method}\nbase: base.safetensors\nmodels: [{path: a.safetensors}, {path: b.safetensors}, {path: c.safetensors}]\nparameters: {${parameters}}\n`);
      const estimate = estimateIn(runBuilt(['merge', join(dir, 'm.yaml'), join(dir, 'out'), '--dry-run', '--quiet']).stdout);
      // The peak the merge reaches: the larger of two runs. A single run's peak moves with when
      // V8 collects dead buffers (104 to 113 MB for task_arithmetic on the CI machine's kind).
      const maxRss = Math.max(...[0, 1].map((r) => runBuilt(['merge', join(dir, 'm.yaml'), join(dir, `out${r}`), '--quiet']).maxRss));
      const ratio = estimate / maxRss;
      expect(ratio, `estimate ${(estimate / 1e6).toFixed(0)} MB, measured ${(maxRss / 1e6).toFixed(0)} MB`).toBeGreaterThan(0.75);
      expect(ratio, `estimate ${(estimate / 1e6).toFixed(0)} MB, measured ${(maxRss / 1e6).toFixed(0)} MB`).toBeLessThan(1.25);
    });
  }
});
