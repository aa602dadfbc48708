/**
 * numpy as a reference, through python3 when it is installed (never a runtime dependency of
 * the project). Scripts live in bench/python/.
 *
 * numpy runs at its best: this machine's environment sets OPENBLAS_CORETYPE and
 * OPENBLAS_L2_SIZE (for old OpenBLAS builds), which pin a current OpenBLAS to older, slower
 * kernels (Haswell's AVX2 instead of SkylakeX's AVX-512 here). Both are removed for the numpy
 * child processes only; the report records the kernel and thread count numpy really ran.
 */
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const PYTHON_DIR = fileURLToPath(new URL('../../python/', import.meta.url));

/** Variables that slow numpy down and are removed for its child processes (never elsewhere). */
export const NUMPY_HANDICAPS = ['OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE'] as const;

/** The environment of a numpy child process: ours minus NUMPY_HANDICAPS. */
export function numpyEnvironment(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of NUMPY_HANDICAPS) delete env[name];
  return env;
}

export interface NumpyRuntime {
  version: string;
  /** The BLAS numpy loaded: OpenBLAS core type, build configuration, threads. */
  blas: { library: string; corename: string; config: string; threads: number }[];
  /** OPENBLAS_* / OMP_* / MKL_* variables numpy saw. */
  environment: Record<string, string>;
  /** The handicapping variables that were set here and removed for numpy. */
  removed: string[];
}

let cached: NumpyRuntime | { skipped: string } | undefined;

/** numpy's version and BLAS runtime, or why numpy cannot run here. */
export function numpyAvailable(): NumpyRuntime | { skipped: string } {
  if (cached) return cached;
  const r = spawnSync('python3', [PYTHON_DIR + 'runtime.py'], { encoding: 'utf8', env: numpyEnvironment() });
  if (r.error) return (cached = { skipped: `python3 not found (${r.error.message})` });
  if (r.status !== 0) return (cached = { skipped: `python3 has no numpy (${r.stderr.trim().split('\n').pop()})` });
  const out = JSON.parse(r.stdout) as { numpy: string; blas: NumpyRuntime['blas']; environment: Record<string, string> };
  const removed = NUMPY_HANDICAPS.filter((name) => process.env[name] !== undefined).map((name) => `${name}=${process.env[name]}`);
  return (cached = { version: out.numpy, blas: out.blas, environment: out.environment, removed });
}

/** One line for the report: numpy's version, BLAS kernel and threads, and what was removed. */
export function describeNumpy(runtime: NumpyRuntime): string {
  const blas = runtime.blas.length
    ? runtime.blas.map((b) => `${b.config.split(' ').slice(0, 2).join(' ')} ${b.corename} kernels, ${b.threads} threads`).join('; ')
    : 'BLAS not identified';
  const removed = runtime.removed.length ? `; removed for numpy only: ${runtime.removed.join(', ')}` : '';
  return `numpy ${runtime.version} (${blas}${removed})`;
}

/** Runs bench/python/<script> with args (numpy at its best) and parses the JSON it prints. */
export function runNumpyScript<T>(script: string, args: readonly string[], options: { timeoutMs?: number } = {}): T {
  const spawnOptions: SpawnSyncOptions = { encoding: 'utf8', maxBuffer: 16 << 20, env: numpyEnvironment(), timeout: options.timeoutMs };
  const r = spawnSync('python3', [PYTHON_DIR + script, ...args], spawnOptions);
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`python3 ${script} ${args.join(' ')} failed (exit ${r.status}): ${String(r.stderr).trim()}`);
  return JSON.parse(String(r.stdout)) as T;
}
