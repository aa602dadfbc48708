/**
 * The benchmark suite, side by side in one run:
 *   npm run bench [-- --quick] [-- --only gemm,kfac-matvec,kfac-solve,merge] [-- --note TEXT]
 *
 * Sections: gemm GFLOP/s (every CPU kernel variant, ml-matrix, tfjs-backend-wasm, numpy);
 * K-FAC sum matvec throughput; mats kfac time to rtol 1e-6 (our PCG and CG, numpy's paper
 * solver); streaming merge throughput and peak RSS. Prints a markdown report with the ratios
 * against the targets of issue 8 and writes it, with the machine's details, to
 * bench/results/<date>-<host>.md. --quick runs small sizes (a smoke run, not a measurement).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatMachine, machineDetails } from './machine.js';
import { formatSection, formatTargets, type Section } from './report.js';
import { gemmSection } from './sections/gemm-section.js';
import { kfacMatvecSection } from './sections/kfac-matvec-section.js';
import { kfacSolveSection } from './sections/kfac-solve-section.js';
import { mergeSection } from './sections/merge-section.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const onlyIndex = args.indexOf('--only');
const only = onlyIndex >= 0 ? new Set(args[onlyIndex + 1]?.split(',')) : undefined;
const SECTIONS = ['gemm', 'kfac-matvec', 'kfac-solve', 'merge'] as const;
for (const name of only ?? []) {
  if (!(SECTIONS as readonly string[]).includes(name)) throw new Error(`--only ${name}: expected some of ${SECTIONS.join(', ')}`);
}
const noteIndex = args.indexOf('--note');
const note = noteIndex >= 0 ? args[noteIndex + 1] : undefined;
const wanted = (name: (typeof SECTIONS)[number]) => !only || only.has(name);
const log = (line: string) => console.error(`[bench] ${line}`);
const timing = { minSeconds: quick ? 0.2 : 1 };

const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout?.trim() || undefined;
const machine = machineDetails(commit);
const started = performance.now();
const sections: Section[] = [];
if (wanted('gemm')) sections.push(await gemmSection({ sizes: quick ? [128, 256] : [256, 512, 1024, 2048], timing, log }));
if (wanted('kfac-matvec')) {
  sections.push(await kfacMatvecSection({ models: 8, sizes: quick ? [128] : [512, 1024], timing, typescriptMaxN: 512, log }));
}
if (wanted('kfac-solve')) sections.push(await kfacSolveSection({ models: 8, n: quick ? 128 : 512, rtol: 1e-6, repetitions: quick ? 1 : 2, log }));
if (wanted('merge')) sections.push(await mergeSection({ models: 4, gigabytesPerModel: quick ? 0.3 : 1, repetitions: quick ? 1 : 2, log }));

const report = [
  `# MaTS-TS benchmarks${quick ? ' (--quick: small sizes, a smoke run)' : ''}`,
  '',
  formatMachine(machine),
  `- total bench time: ${((performance.now() - started) / 1000).toFixed(0)} s`,
  ...(note ? [`- note: ${note}`] : []),
  '',
  'Every number is measured in this one run, side by side, on a machine that may be shared with other work (see the load ' +
    'average): compare ratios within the run rather than numbers across runs.',
  '',
  '## Targets (issue 8)',
  '',
  formatTargets(sections.flatMap((s) => s.targets)),
  '',
  ...sections.map(formatSection),
].join('\n');
console.log(report);

const resultsDir = fileURLToPath(new URL('../results/', import.meta.url));
mkdirSync(resultsDir, { recursive: true });
const stamp = machine.date.slice(0, 19).replace(/[:T]/g, '-');
const file = path.join(resultsDir, `${stamp}-${machine.host}${quick ? '-quick' : ''}.md`);
// Written under a temporary name first: an interrupted run leaves no report that looks complete.
writeFileSync(`${file}.tmp`, report + '\n');
renameSync(`${file}.tmp`, file);
log(`wrote ${path.relative(process.cwd(), file)}`);
