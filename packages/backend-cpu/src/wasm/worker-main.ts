/**
 * The body of a kernel worker thread. It is started from its source text (Worker with
 * eval: true), so the same code runs whether this package is loaded from src/ (vitest) or
 * dist/, and it must be self-contained: no reference to any module-level name.
 *
 * Protocol (see worker-pool.ts): once instantiated, the worker sets its READY word and sleeps
 * on its SEQ word; the main thread writes a job into the shared argument words, bumps SEQ and
 * notifies. The worker runs the job's
 * export with the arguments, then bumps its DONE word and notifies. An exception is recorded
 * in its ERROR word, so the main thread can throw it instead of hanging.
 */
import type { WasmApi, WasmMemory, WasmModule } from './webassembly-api.js';

export function kernelWorkerMain(): void {
  const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
  // A specifier in a variable: a browser bundle of this package must not try to resolve it.
  const workerThreadsModule = 'node:worker_threads';
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { workerData } = require(workerThreadsModule) as typeof import('node:worker_threads');
  const { module, memory, control, index, slotWords, argsOffset, exportNames } = workerData as {
    module: WasmModule;
    memory: WasmMemory;
    control: SharedArrayBuffer;
    index: number;
    slotWords: number;
    argsOffset: number;
    exportNames: string[];
  };
  const ctl = new Int32Array(control);
  const seqWord = index * slotWords;
  const doneWord = seqWord + 1;
  const errorWord = seqWord + 2;
  const readyWord = seqWord + 3;
  let exports: Record<string, (...args: number[]) => number>;
  try {
    exports = new wasm.Instance(module, { env: { memory } }).exports as typeof exports;
  } catch {
    // ERROR = 2: this worker is gone; the main thread stops waiting for it and throws.
    Atomics.store(ctl, errorWord, 2);
    Atomics.notify(ctl, doneWord);
    return;
  }
  // READY = 1 tells the main thread it may post jobs here; it posts none before (so it never
  // blocks on a worker that is still starting), and only it bumps SEQ.
  let seen = Atomics.load(ctl, seqWord);
  Atomics.store(ctl, readyWord, 1);
  for (;;) {
    Atomics.wait(ctl, seqWord, seen);
    const seq = Atomics.load(ctl, seqWord);
    if (seq === seen) continue;
    seen = seq;
    const job = ctl[argsOffset];
    try {
      const argc = ctl[argsOffset + 1];
      const args: number[] = [];
      for (let i = 0; i < argc; i++) args.push(ctl[argsOffset + 2 + i]);
      exports[exportNames[job]](...args);
    } catch {
      Atomics.store(ctl, errorWord, 1);
    }
    Atomics.add(ctl, doneWord, 1);
    Atomics.notify(ctl, doneWord);
  }
}
