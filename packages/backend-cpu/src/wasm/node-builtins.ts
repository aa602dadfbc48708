/**
 * The Node built-ins the WebAssembly variants need, loaded once with a guarded dynamic import
 * so that this package still loads in a browser (where the variants report themselves
 * unavailable and the backend runs its plain TypeScript kernels). The specifiers are built at
 * run time so that bundlers leave these imports alone instead of failing a browser build.
 */
import type * as Fs from 'node:fs';
import type * as Module from 'node:module';
import type * as Os from 'node:os';
import type * as WorkerThreads from 'node:worker_threads';

export interface NodeBuiltins {
  fs: typeof Fs;
  /** For createRequire: the native BLAS addon is loaded with require (src/native/native-blas.ts). */
  module: typeof Module;
  os: typeof Os;
  workerThreads: typeof WorkerThreads;
}

/** True in Node (and runtimes that emulate it); a browser is not asked for node: URLs at all. */
function isNode(): boolean {
  const process = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof process?.versions?.node === 'string';
}

async function load(): Promise<NodeBuiltins | undefined> {
  if (!isNode()) return undefined;
  try {
    const builtin = (name: string): Promise<unknown> => import(/* @vite-ignore */ `node:${name}`);
    const [fs, module, os, workerThreads] = await Promise.all([builtin('fs'), builtin('module'), builtin('os'), builtin('worker_threads')]);
    return { fs, module, os, workerThreads } as NodeBuiltins;
  } catch {
    return undefined;
  }
}

/** undefined outside Node. */
export const nodeBuiltins: NodeBuiltins | undefined = await load();
