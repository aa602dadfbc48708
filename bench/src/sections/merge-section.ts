/**
 * Streaming merge throughput (GB/s of input read) and peak RSS of `mats merge` running
 * task_arithmetic on generated checkpoints, beside the numpy reference of the same merge.
 *
 * It drives the merge engineer's scripts and the CLI as child processes, so it needs no types
 * from @mats/merge: bench/dist/merge-models.js (generator), packages/merge/dist/cli/main.js
 * (the `mats` CLI) and bench/src/merge-numpy-reference.py. Until they are on this branch the
 * rows say what is missing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeNumpy, numpyAvailable, numpyEnvironment } from '../peers/numpy.js';
import { fmt, ratio, type Section, type TargetCheck } from '../report.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const GENERATOR = path.join(ROOT, 'bench/dist/merge-models.js');
const CLI = path.join(ROOT, 'packages/merge/dist/cli/main.js');
const NUMPY_REFERENCE = path.join(ROOT, 'bench/src/merge-numpy-reference.py');
const RSS_HOOK = path.join(ROOT, 'bench/scripts/max-rss-hook.cjs');

export interface MergeSectionOptions {
  models: number;
  gigabytesPerModel: number;
  repetitions: number;
  log?: (line: string) => void;
}

interface Run {
  seconds: number;
  maxRssMiB: number;
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Run {
  const t0 = performance.now();
  const r = spawnSync(command, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 << 20 });
  const seconds = (performance.now() - t0) / 1000;
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (exit ${r.status}): ${r.stderr.trim().slice(-2000)}`);
  const rss = /MATS_MAX_RSS_KB=(\d+)/.exec(r.stderr);
  if (!rss) throw new Error(`${command} ${args.join(' ')}: no peak RSS reported`);
  return { seconds, maxRssMiB: Number(rss[1]) / 1024 };
}

function best(runs: Run[]): Run {
  return runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
}

export async function mergeSection(options: MergeSectionOptions): Promise<Section> {
  const log = options.log ?? (() => {});
  const missing = [GENERATOR, CLI].filter((f) => !existsSync(f)).map((f) => path.relative(ROOT, f));
  const title = `streaming merge: task_arithmetic, ${options.models} task models + base`;
  if (missing.length > 0) {
    return {
      title,
      tables: [{ header: ['merge', 'GB/s', 'peak RSS MiB', 'status'], rows: [['mats merge (task_arithmetic)', '-', '-', `pending: ${missing.join(', ')} not built on this branch yet (branch \`merge\`)`]] }],
      notes: [],
      targets: [],
    };
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mats-merge-bench-'));
  try {
    log(`merge: generating ${options.models + 1} models of ${options.gigabytesPerModel} GB`);
    const gen = spawnSync(process.execPath, [GENERATOR, dir, '--models', String(options.models), '--gb', String(options.gigabytesPerModel)], { encoding: 'utf8' });
    if (gen.status !== 0) throw new Error(`merge-models.js failed: ${gen.stderr}`);
    const inputs = readdirSync(dir).filter((f) => f.endsWith('.safetensors'));
    const inputBytes = inputs.reduce((sum, f) => sum + statSync(path.join(dir, f)).size, 0);
    const ours: Run[] = [];
    for (let i = 0; i < options.repetitions; i++) {
      log(`merge: mats merge, run ${i + 1}`);
      ours.push(run(process.execPath, ['--require', RSS_HOOK, CLI, 'merge', path.join(dir, 'merge.yaml'), '--quiet', '--force'], dir));
    }
    const rows: string[][] = [];
    const o = best(ours);
    const oursRate = inputBytes / 1e9 / o.seconds;
    rows.push(['mats merge (task_arithmetic, CLI)', fmt(oursRate), fmt(o.maxRssMiB), `best of ${ours.length}, ${fmt(o.seconds)} s`]);
    const numpy = numpyAvailable();
    const notes: string[] = [];
    let numpyRate: number | undefined;
    if ('skipped' in numpy || !existsSync(NUMPY_REFERENCE)) {
      rows.push(['numpy reference', '-', '-', 'skipped: ' + ('skipped' in numpy ? numpy.skipped : 'bench/src/merge-numpy-reference.py missing')]);
    } else {
      const wrapper =
        'import resource, runpy, sys; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name="__main__"); ' +
        'print("MATS_MAX_RSS_KB=%d" % resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)';
      const theirs: Run[] = [];
      for (let i = 0; i < options.repetitions; i++) {
        log(`merge: numpy reference, run ${i + 1}`);
        theirs.push(run('python3', ['-c', wrapper, NUMPY_REFERENCE, dir], dir, numpyEnvironment()));
      }
      const t = best(theirs);
      numpyRate = inputBytes / 1e9 / t.seconds;
      rows.push([`numpy ${numpy.version} reference (memmap, same merge)`, fmt(numpyRate), fmt(t.maxRssMiB), `best of ${theirs.length}, ${fmt(t.seconds)} s; ours / numpy ${fmt(ratio(oursRate, numpyRate))}x`]);
      notes.push(describeNumpy(numpy));
    }
    const targets: TargetCheck[] = [
      { issue: 15, target: 'streaming task_arithmetic merge: GB/s, ours / numpy', ratio: ratio(oursRate, numpyRate), bound: 1, direction: 'atLeast', detail: 'merge table' },
      { issue: 15, target: 'streaming task_arithmetic merge: our peak RSS', ratio: o.maxRssMiB, bound: 300, direction: 'atMost', unit: 'MiB', detail: 'merge table' },
    ];
    return {
      title,
      tables: [{ header: ['merge', 'GB/s', 'peak RSS MiB', 'notes'], rows }],
      notes: [
        `${inputs.length} input files, ${fmt(inputBytes / 1e9)} GB in all (float32, LLaMA-like shapes, bench/src/merge-models.ts); ` +
          'GB/s = input bytes / wall time of the whole process (start-up and output included); files are in the page cache after generation.',
        ...notes,
      ],
      targets,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
