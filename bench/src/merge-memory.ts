/**
 * The dry run's peak-memory estimate against the measured peak: for each config, `mats merge
 * --dry-run` prints the estimate and `/usr/bin/time -v mats merge` measures the maximum resident
 * set size of the same merge. Prints a markdown table with the ratio and whether it is within
 * 25% (issue 17's target).
 *
 *   npm run build
 *   node bench/dist/merge-models.js DIR [--models 4] [--gb 1]       # the generated checkpoints
 *   node bench/dist/merge-memory.js [DIR] [CONFIG...]                # DIR's methods, and any config
 *
 * For DIR (base.safetensors, task1..N.safetensors) it writes one config per case below: the
 * elementwise methods (streamed in chunks) and the whole-tensor ones (per-tensor TIES,
 * breadcrumbs, DARE with mergekit's L1 rescale). Extra CONFIGs (the demo's
 * examples/out/configs/*.yaml) are measured as they are. Outputs go to a temporary folder and
 * are removed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'packages', 'merge', 'bin', 'mats.js');

const CASES: readonly { name: string; method: string; parameters: string }[] = [
  { name: 'task_arithmetic', method: 'task_arithmetic', parameters: 'lambda: 0.3' },
  { name: 'average', method: 'average', parameters: '' },
  { name: 'ties, global trim', method: 'ties', parameters: 'density: 0.2' },
  { name: 'dare', method: 'dare', parameters: 'p: 0.9' },
  { name: 'ties, per-tensor trim', method: 'ties', parameters: 'trim: per_tensor' },
  { name: 'breadcrumbs', method: 'breadcrumbs', parameters: 'density: 0.5' },
  { name: 'dare, L1 rescale', method: 'dare', parameters: 'rescale: l1' },
];

/** Bytes from "1.23 GB" / "456 MB" / "7.8 KB". */
function parseBytes(text: string): number {
  const m = /([\d.]+) (B|KB|MB|GB|TB)/.exec(text);
  if (m === null) throw new Error(`no size in ${JSON.stringify(text)}`);
  return Number(m[1]) * { B: 1, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12 }[m[2] as 'B'];
}

function measure(config: string, out: string): { estimate: number; measured: number; seconds: number } {
  const dry = spawnSync(process.execPath, [BIN, 'merge', config, out, '--dry-run', '--quiet'], { encoding: 'utf8' });
  if (dry.status !== 0) throw new Error(`${config}: dry run failed: ${dry.stderr}`);
  const line = dry.stdout.split('\n').find((l) => l.startsWith('estimated peak memory:'));
  if (line === undefined) throw new Error(`${config}: no estimate in the dry run's output`);
  const t0 = performance.now();
  const run = spawnSync('/usr/bin/time', ['-v', process.execPath, BIN, 'merge', config, out, '--quiet', '--force'], { encoding: 'utf8' });
  const seconds = (performance.now() - t0) / 1000;
  if (run.status !== 0) throw new Error(`${config}: merge failed: ${run.stderr}`);
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(run.stderr);
  if (rss === null) throw new Error('/usr/bin/time -v gave no maximum resident set size');
  return { estimate: parseBytes(line.slice('estimated peak memory:'.length)), measured: Number(rss[1]) * 1024, seconds };
}

function main(): void {
  const args = process.argv.slice(2);
  // A first argument that is not a config is the folder of generated checkpoints.
  const dir = args.length > 0 && !/\.ya?ml$/.test(args[0]) ? args[0] : undefined;
  const configs = dir === undefined ? args : args.slice(1);
  if (args.length === 0 || !existsSync('/usr/bin/time')) {
    console.error(args.length === 0 ? 'usage: node bench/dist/merge-memory.js [DIR] [CONFIG...]' : 'needs /usr/bin/time (apt-get install time)');
    process.exitCode = 1;
    return;
  }
  const scratch = mkdtempSync(join(tmpdir(), 'mats-merge-memory-'));
  const rows: string[] = ['| merge | estimated | measured (max RSS) | estimate / measured | within 25% |', '|---|---|---|---|---|'];
  try {
    const tasks = dir === undefined ? [] : readdirSync(dir).filter((f) => /^task\d+\.safetensors$/.test(f)).sort();
    const runs: { name: string; config: string }[] = [];
    if (dir !== undefined) {
      CASES.forEach((c, i) => {
        const config = join(dir, `memory-case-${i}.yaml`);
        const lines = [`method: ${c.method}`, 'base: base.safetensors', 'models:', ...tasks.map((t) => `  - path: ${t}`), ...(c.parameters !== '' ? ['parameters:', `  ${c.parameters}`] : [])];
        writeFileSync(config, `${lines.join('\n')}\n`);
        runs.push({ name: `${c.name} (${tasks.length} models)`, config });
      });
    }
    for (const config of configs) runs.push({ name: basename(config), config });
    for (const { name, config } of runs) {
      const { estimate, measured, seconds } = measure(config, join(scratch, 'out'));
      rmSync(join(scratch, 'out'), { recursive: true, force: true });
      const ratio = estimate / measured;
      rows.push(`| ${name} | ${(estimate / 1e6).toFixed(0)} MB | ${(measured / 1e6).toFixed(0)} MB | ${ratio.toFixed(2)} | ${Math.abs(ratio - 1) <= 0.25 ? 'yes' : 'NO'} |`);
      console.error(`${name}: estimate ${(estimate / 1e6).toFixed(0)} MB, measured ${(measured / 1e6).toFixed(0)} MB (${seconds.toFixed(1)} s)`);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
    if (dir !== undefined) for (const f of readdirSync(dir)) if (f.startsWith('memory-case-')) rmSync(join(dir, f));
  }
  console.log(rows.join('\n'));
}

main();
