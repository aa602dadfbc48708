/**
 * K-FAC sum matvec throughput: Y = sum_i G_i X A_i for 8 models with [n, n] factors, the
 * operator a MaTS K-FAC merge applies once per CG iteration; every CPU kernel variant and
 * numpy on the same problem.
 */
import { availableKernelVariants, createCpuBackend } from '@mats/backend-cpu';
import { kfacProblem, writeKfacProblem } from '../kfac-problem.js';
import { KfacSumMatvec } from '../kfac-sum-matvec.js';
import { numpyAvailable, runNumpyScript } from '../peers/numpy.js';
import { fmt, ratio, type Section } from '../report.js';
import { gflops, timeIt, type TimingOptions } from '../timing.js';

export interface KfacMatvecOptions {
  models: number;
  sizes: number[];
  timing: TimingOptions;
  /** The typescript variant is skipped above this n (one apply at 1024 takes ~8 s). */
  typescriptMaxN: number;
  log?: (line: string) => void;
}

export async function kfacMatvecSection(options: KfacMatvecOptions): Promise<Section> {
  const log = options.log ?? (() => {});
  const numpy = numpyAvailable();
  const notes: string[] = [];
  if ('skipped' in numpy) notes.push(`numpy skipped: ${numpy.skipped}`);
  const variants = availableKernelVariants();
  const rows: string[][] = [];
  for (const n of options.sizes) {
    log(`kfac matvec: problem n=${n}`);
    const problem = kfacProblem(options.models, n);
    let numpySeconds: Record<string, number> = {};
    if (!('skipped' in numpy)) {
      log(`kfac matvec: numpy n=${n}`);
      const files = writeKfacProblem(problem);
      try {
        const out = runNumpyScript<{ results: { dtype: string; seconds: number }[] }>('kfac.py', [files.dir, 'matvec', String(options.timing.minSeconds ?? 1)]);
        numpySeconds = Object.fromEntries(out.results.map((r) => [r.dtype, r.seconds]));
      } finally {
        files.remove();
      }
    }
    const flops = KfacSumMatvec.flops(options.models, n);
    for (const dtype of ['float64', 'float32'] as const) {
      const cells = variants.map((variant) => {
        if (variant === 'typescript' && n > options.typescriptMaxN) return undefined;
        log(`kfac matvec: cpu ${variant} ${dtype} n=${n}`);
        const backend = createCpuBackend(dtype, { kernels: variant });
        const op = new KfacSumMatvec(backend, problem);
        const x = backend.fromArray(problem.w[0], [n, n]);
        const y = backend.zeros([n, n]);
        const t = timeIt(() => op.apply(x, y), options.timing);
        op.dispose();
        backend.dispose(x);
        backend.dispose(y);
        return t.best;
      });
      const measured = cells.filter((c): c is number => c !== undefined);
      const best = Math.min(...measured);
      const np = numpySeconds[dtype];
      rows.push([
        String(n),
        dtype,
        ...cells.map((s) => (s === undefined ? 'skipped' : `${fmt(s * 1000)} ms (${fmt(gflops(flops, s))})`)),
        np === undefined ? '-' : `${fmt(np * 1000)} ms (${fmt(gflops(flops, np))})`,
        np === undefined ? '-' : `${fmt(ratio(np, best))}x`,
      ]);
    }
  }
  notes.push(
    `One apply = ${options.models} x 2 gemms of [n, n] (4 n^3 flops per model); time is the best of at least 3 applies and 1 s; ` +
      `GFLOP/s in parentheses. "speed vs numpy" = numpy time / fastest cpu time (above 1: we are faster).`,
  );
  if (options.sizes.some((n) => n > options.typescriptMaxN)) {
    notes.push(`The typescript variant is skipped above n = ${options.typescriptMaxN} (one apply takes several seconds).`);
  }
  return {
    title: `K-FAC sum matvec, ${options.models} models: sum_i G_i X A_i`,
    tables: [{ header: ['n', 'dtype', ...variants.map((v) => `cpu ${v}`), 'numpy', 'speed vs numpy'], rows }],
    notes,
    targets: [],
  };
}
