/** What a result was measured on: written beside every table in bench/results/. */
import os from 'node:os';
import { availableKernelVariants, nativeBlasInfo } from '@mats/backend-cpu';

export interface MachineDetails {
  date: string;
  host: string;
  cpu: string;
  cores: number;
  memoryGiB: number;
  loadAverage: number[];
  node: string;
  v8: string;
  platform: string;
  cpuKernelVariants: string[];
  /** The 'blas' variant's library, kernel and threads, or why it is unavailable. */
  nativeBlas: string;
  commit?: string;
}

export function machineDetails(commit?: string): MachineDetails {
  return {
    date: new Date().toISOString(),
    host: os.hostname(),
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.availableParallelism(),
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100),
    node: process.version,
    v8: process.versions.v8,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpuKernelVariants: availableKernelVariants(),
    nativeBlas: describeNativeBlas(),
    commit,
  };
}

export function formatMachine(m: MachineDetails): string {
  return [
    `- date: ${m.date}`,
    `- host: ${m.host} (${m.platform})`,
    `- cpu: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB`,
    `- load average at start (1, 5, 15 min): ${m.loadAverage.join(', ')}`,
    `- node ${m.node}, V8 ${m.v8}`,
    `- @mats/backend-cpu kernel variants available: ${m.cpuKernelVariants.join(', ')}`,
    `- @mats/backend-cpu native BLAS ('blas' variant): ${m.nativeBlas}`,
    ...(m.commit ? [`- commit: ${m.commit}`] : []),
  ].join('\n');
}

/**
 * The native BLAS as this process runs it: OpenBLAS reads OPENBLAS_CORETYPE and friends from the
 * environment, which the bench leaves as the machine sets them for our side (only numpy's
 * child process runs without them), so the report names them.
 */
function describeNativeBlas(): string {
  const info = nativeBlasInfo();
  if (typeof info === 'string') return `unavailable (${info})`;
  const env = Object.entries(process.env)
    .filter(([k]) => k.startsWith('OPENBLAS_') || k === 'OMP_NUM_THREADS')
    .map(([k, v]) => `${k}=${v}`);
  const parts = [info.config ?? info.library, info.core ? `${info.core} kernels` : undefined, info.threads ? `${info.threads} threads` : undefined];
  return `${parts.filter(Boolean).join(', ')}; environment as the machine sets it: ${env.length > 0 ? env.join(', ') : 'no OPENBLAS_* variables'}`;
}
