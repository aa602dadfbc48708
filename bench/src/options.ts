/** The command line of `npm run bench`: parsed and checked before anything runs. */

export const SECTIONS = ['gemm', 'level1', 'kfac-matvec', 'kfac-solve', 'mixed-precision', 'eigh', 'cholesky', 'preconditioner', 'merge'] as const;
export type SectionName = (typeof SECTIONS)[number];

const SECTION_HELP: Record<SectionName, string> = {
  gemm: 'gemm GFLOP/s, n = 256 .. 2048: every CPU kernel variant, ml-matrix, tfjs-backend-wasm, numpy',
  level1: 'dot and axpy GB/s on one core and on all of them',
  'kfac-matvec': 'the K-FAC sum matvec sum_i G_i X A_i (8 models), fused and as gemms, against numpy and the gemm row',
  'kfac-solve': 'mats kfac time to rtol 1e-6 (8 models, n = 512 and 1024, float64): our PCG, plain CG, numpy\'s paper solver; preconditioner setup',
  'mixed-precision': 'the same solve with float32 products inside float64 iterative refinement',
  eigh: 'symmetric eigendecomposition, n = 256 .. 2048: ours (float64, float32), ml-matrix, numpy/LAPACK',
  cholesky: 'Cholesky, n = 256 .. 2048: ours (float64, float32), ml-matrix, numpy/LAPACK',
  preconditioner: "the 'auto' preconditioner for large factors (n up to 4096 here, rules for 14336): setup and iterations per kind",
  merge: 'streaming task_arithmetic merge of 4 generated ~1 GB models + base: GB/s and peak RSS, against numpy memmap',
};

export interface BenchOptions {
  help: boolean;
  quick: boolean;
  only: Set<SectionName> | undefined;
  note: string | undefined;
  /** Module paths or package names of backends to measure beside ours (--backend, repeatable). */
  backends: string[];
  /** Folder the report is written to (default bench/results). */
  out: string | undefined;
}

export const USAGE = `npm run bench [-- OPTIONS]

Runs the benchmark sections side by side in one process and writes a markdown report (the
machine, every table, and the targets of issues 8 and 15 with a verdict) to bench/results/.

Options:
  --help              print this and exit
  --quick             small sizes: a smoke run of every section, not a measurement
  --only A,B,...      run only these sections (default: all):
${SECTIONS.map((s) => `                        ${s.padEnd(16)} ${SECTION_HELP[s]}`).join('\n')}
  --backend SPEC      also measure a Backend of your own, beside ours and numpy: SPEC is a module
                      path (./path/to/module.js) or a package name; the module exports a factory,
                      createBackend(dtype) or its default export, and optionally dtypes (e.g.
                      ['float64']). It must pass core's backend conformance suite first; a backend
                      that fails is named in the report and not timed. Repeatable.
  --note TEXT         a note written into the report
  --out DIR           write the report to DIR instead of bench/results/

A full run takes about 15 minutes on an idle 2-core machine; numpy (python3 with numpy) and
tfjs rows are skipped, with the reason, where they cannot run.`;

/** Parses argv (without node and the script); throws an Error with the usage on bad input. */
export function parseBenchOptions(argv: readonly string[]): BenchOptions {
  const options: BenchOptions = { help: false, quick: false, only: undefined, note: undefined, backends: [], out: undefined };
  const value = (i: number, name: string): string => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`${name} needs a value\n\n${USAGE}`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    switch (arg) {
      case '--help':
      case '-h':
        options.help = true;
        break;
      case '--quick':
        options.quick = true;
        break;
      case '--only': {
        const names = value(i++, '--only').split(',').filter(Boolean);
        for (const name of names) {
          if (!(SECTIONS as readonly string[]).includes(name)) throw new Error(`--only ${name}: unknown section; expected some of ${SECTIONS.join(', ')}`);
        }
        options.only = new Set(names as SectionName[]);
        break;
      }
      case '--note':
        options.note = value(i++, '--note');
        break;
      case '--backend':
        options.backends.push(value(i++, '--backend'));
        break;
      case '--out':
        options.out = value(i++, '--out');
        break;
      default:
        throw new Error(`unknown option ${arg}\n\n${USAGE}`);
    }
  }
  return options;
}
