/**
 * The benchmark suite as a function: runBench(options) runs the sections side by side in one
 * process and returns (and writes) the markdown report: the machine, the targets of issues 8
 * and 15 with a verdict each, and every table. `npm run bench` is its command line (index.ts).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchBackend } from './backends.js';
import { loadExternalBackends } from './external-backends.js';
import { formatMachine, machineDetails } from './machine.js';
import { SECTIONS, type SectionName } from './options.js';
import { formatSection, formatTargets, type Section, type TargetCheck } from './report.js';
import { factorizationSection } from './sections/factorization-section.js';
import { gemmSection } from './sections/gemm-section.js';
import { kfacMatvecSection } from './sections/kfac-matvec-section.js';
import { kfacSolveSection } from './sections/kfac-solve-section.js';
import { level1Section } from './sections/level1-section.js';
import { preconditionerSection } from './sections/preconditioner-section.js';
import { mergeSection } from './sections/merge-section.js';

export interface RunBenchOptions {
  /** Small sizes: a smoke run of every section, not a measurement. */
  quick?: boolean;
  /** Sections to run (default all). */
  only?: readonly SectionName[];
  /** Module paths or package names of backends to measure beside ours (see external-backends.ts). */
  backends?: readonly string[];
  note?: string;
  /** Folder for the report (default bench/results); null writes nothing. */
  out?: string | null;
  /** Progress lines (default: stderr). */
  log?: (line: string) => void;
}

export interface BenchReport {
  markdown: string;
  targets: TargetCheck[];
  /** Where the report was written, unless out was null. */
  file?: string;
  seconds: number;
}

const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url));

export async function runBench(options: RunBenchOptions = {}): Promise<BenchReport> {
  const quick = options.quick ?? false;
  const log = options.log ?? ((line: string) => console.error(`[bench] ${line}`));
  const wanted = (name: SectionName) => !options.only || options.only.includes(name);
  const timing = { minSeconds: quick ? 0.2 : 1 };
  const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', cwd: fileURLToPath(new URL('.', import.meta.url)) }).stdout?.trim() || undefined;
  const machine = machineDetails(commit);
  const started = performance.now();

  const external = await loadExternalBackends(options.backends ?? [], log);
  const others: BenchBackend[] = external.backends;
  const sections: Section[] = [];
  const run = async (name: SectionName, make: () => Promise<Section>) => {
    if (!wanted(name)) return;
    const t0 = performance.now();
    const section = await make();
    section.notes.push(`section time: ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    sections.push(section);
  };
  await run('gemm', () => gemmSection({ sizes: quick ? [128, 256] : [256, 512, 1024, 2048], timing, others, log }));
  await run('level1', () => level1Section({ sizes: quick ? [1 << 16] : [1 << 20, 1 << 24], timing, others, log }));
  await run('kfac-matvec', () =>
    kfacMatvecSection({ models: 8, sizes: quick ? [128] : [512, 1024], targetSizes: quick ? [128] : [512], timing, typescriptMaxN: 512, others, log }),
  );
  const solveSizes = quick ? [128] : [512, 1024];
  const timeTargets = new Map(quick ? [[128, 0.5]] : [[512, 0.5], [1024, 0.8]]);
  await run('kfac-solve', () =>
    kfacSolveSection({ models: 8, sizes: solveSizes, rtol: 1e-6, repetitions: quick ? 1 : 2, rows: ['float64'], timeTargets, setupTargetN: solveSizes[0], others, log }),
  );
  await run('mixed-precision', () => kfacSolveSection({ title: 'mats kfac with mixed precision', models: 8, sizes: solveSizes, rtol: 1e-6, repetitions: quick ? 1 : 2, rows: ['mixed'], timeTargets, log }));
  const factorizationSizes = quick ? [64, 128] : [256, 512, 1024, 2048];
  const factorizationTargets = quick ? [128] : [512, 2048];
  await run('eigh', () => factorizationSection({ operation: 'eigh', sizes: factorizationSizes, targetSizes: factorizationTargets, timing, others, log }));
  await run('cholesky', () => factorizationSection({ operation: 'cholesky', sizes: factorizationSizes, targetSizes: factorizationTargets, timing, others, log }));
  await run('preconditioner', () => preconditionerSection({ models: 2, sizes: quick ? [128, 256] : [1024, 2048, 4096], solveN: quick ? 128 : 1024, rtol: 1e-6, log }));
  await run('merge', () => mergeSection({ models: 4, gigabytesPerModel: quick ? 0.3 : 1, repetitions: quick ? 1 : 2, log }));

  const seconds = (performance.now() - started) / 1000;
  const targets = sections.flatMap((s) => s.targets).sort((a, b) => b.issue - a.issue);
  const markdown = [
    `# MaTS-TS benchmarks${quick ? ' (--quick: small sizes, a smoke run)' : ''}`,
    '',
    formatMachine(machine),
    `- total bench time: ${seconds.toFixed(0)} s`,
    `- sections: ${sections.length === SECTIONS.length ? 'all' : SECTIONS.filter(wanted).join(', ')}`,
    ...(options.note ? [`- note: ${options.note}`] : []),
    ...external.notes.map((n) => `- ${n}`),
    '',
    'Every number is measured in this one run, side by side, on a machine that may be shared with other work (see the load ' +
      'average): compare ratios within the run rather than numbers across runs.',
    '',
    '## Targets',
    '',
    targets.length > 0 ? formatTargets(targets) : 'No section with a target ran (the targets are in kfac-matvec, kfac-solve, eigh, cholesky, merge and gemm).',
    '',
    ...sections.map(formatSection),
  ].join('\n');

  let file: string | undefined;
  if (options.out !== null) {
    const dir = options.out ?? RESULTS_DIR;
    mkdirSync(dir, { recursive: true });
    const stamp = machine.date.slice(0, 19).replace(/[:T]/g, '-');
    file = path.join(dir, `${stamp}-${machine.host}${quick ? '-quick' : ''}.md`);
    // Written under a temporary name first: an interrupted run leaves no report that looks complete.
    writeFileSync(`${file}.tmp`, markdown + '\n');
    renameSync(`${file}.tmp`, file);
  }
  return { markdown, targets, file, seconds };
}
