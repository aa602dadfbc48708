/** What a result was measured on: written beside every table in bench/results/. */
import os from 'node:os';
import { availableKernelVariants } from '@mats/backend-cpu';

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
    ...(m.commit ? [`- commit: ${m.commit}`] : []),
  ].join('\n');
}
