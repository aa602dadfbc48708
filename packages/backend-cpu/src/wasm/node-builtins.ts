/**
 * The Node built-ins the WebAssembly variants need, loaded once with a guarded dynamic import
 * so that this package still loads in a browser (where the variants report themselves
 * unavailable and the backend runs its plain TypeScript kernels).
 */
import type * as Fs from 'node:fs';
import type * as Os from 'node:os';
import type * as WorkerThreads from 'node:worker_threads';

export interface NodeBuiltins {
  fs: typeof Fs;
  os: typeof Os;
  workerThreads: typeof WorkerThreads;
}

async function load(): Promise<NodeBuiltins | undefined> {
  try {
    const [fs, os, workerThreads] = await Promise.all([import('node:fs'), import('node:os'), import('node:worker_threads')]);
    return { fs, os, workerThreads };
  } catch {
    return undefined;
  }
}

/** undefined outside Node. */
export const nodeBuiltins: NodeBuiltins | undefined = await load();
