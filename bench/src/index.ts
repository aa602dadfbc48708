/**
 * `npm run bench [-- OPTIONS]`: the command line of runBench (run-bench.ts); `--help` lists
 * the options and the sections. Prints the report and writes it to bench/results/.
 */
import path from 'node:path';
import { parseBenchOptions, USAGE } from './options.js';

let options;
try {
  options = parseBenchOptions(process.argv.slice(2));
} catch (e) {
  console.error((e as Error).message);
  process.exit(2);
}
if (options.help) {
  console.log(USAGE);
} else {
  const { runBench } = await import('./run-bench.js');
  const report = await runBench({ quick: options.quick, only: options.only ? [...options.only] : undefined, backends: options.backends, note: options.note, out: options.out });
  console.log(report.markdown);
  if (report.file) console.error(`[bench] wrote ${path.relative(process.cwd(), report.file)} (${report.seconds.toFixed(0)} s)`);
}
