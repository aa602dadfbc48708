/**
 * Worker threads that run exports of the kernel module on a shared WebAssembly memory.
 *
 * Hand-off goes through Atomics.wait / Atomics.notify on a small SharedArrayBuffer, not
 * through postMessage: a round trip (wake a worker, wait for its acknowledgement) costs about
 * 10-20 microseconds here, against the tens of microseconds to milliseconds of the jobs. The
 * main thread always does a share of the work itself, so n threads need n - 1 workers.
 * Workers are unref'd: an idle pool never keeps the process alive.
 */
import { nodeBuiltins } from './node-builtins.js';
import type { WasmMemory, WasmModule } from './webassembly-api.js';
import { kernelWorkerMain } from './worker-main.js';

/** Words per worker slot in the control array: SEQ, DONE, ERROR, READY, padding to 64 bytes. */
const SLOT_WORDS = 16;
const READY = 3;
const MAX_ARGS = 30;

export class WorkerPool {
  private readonly control: Int32Array;
  private readonly argsOffset: number;
  private readonly workers: import('node:worker_threads').Worker[] = [];
  private readonly doneSeen: number[] = [];
  private readonly jobIndex: Map<string, number>;

  constructor(
    private readonly module: WasmModule,
    private readonly memory: WasmMemory,
    readonly maxWorkers: number,
    private readonly exportNames: readonly string[],
  ) {
    this.argsOffset = maxWorkers * SLOT_WORDS;
    this.control = new Int32Array(new SharedArrayBuffer(4 * (this.argsOffset + 2 + MAX_ARGS)));
    this.jobIndex = new Map(exportNames.map((name, i) => [name, i]));
  }

  /** Starts workers up to `count` (at most maxWorkers); they live until the process exits. */
  private ensureWorkers(count: number): void {
    const wt = nodeBuiltins?.workerThreads;
    if (!wt) throw new Error('worker threads need Node');
    while (this.workers.length < count) {
      const index = this.workers.length;
      const worker = new wt.Worker(`(${kernelWorkerMain.toString()})()`, {
        eval: true,
        execArgv: workerExecArgv(),
        workerData: {
          module: this.module,
          memory: this.memory,
          control: this.control.buffer,
          index,
          slotWords: SLOT_WORDS,
          argsOffset: this.argsOffset,
          exportNames: this.exportNames,
        },
      });
      worker.unref();
      this.workers.push(worker);
      this.doneSeen.push(0);
    }
  }

  /** Helper threads that took part in the last job (deterministic once the workers are ready). */
  lastJobHelpers = 0;

  /** Starts `count` workers and resolves once all are ready to take jobs. */
  async ready(count: number, timeoutMs = 30_000): Promise<void> {
    const n = Math.min(count, this.maxWorkers);
    this.ensureWorkers(n);
    const start = Date.now();
    for (let w = 0; w < n; w++) {
      while (Atomics.load(this.control, w * SLOT_WORDS + READY) !== 1) {
        if (Atomics.load(this.control, w * SLOT_WORDS + 2) === 2) {
          throw new Error('worker pool: a kernel worker could not instantiate the WebAssembly module');
        }
        if (Date.now() - start > timeoutMs) throw new Error(`worker pool: worker ${w} not ready after ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    }
  }

  /**
   * Runs exportName(args) on up to `helpers` workers while the caller runs `local()` (the same
   * work, claimed from a shared counter), and returns once every helper is done. Arguments are
   * 32-bit integers (byte addresses and sizes). Workers still starting take no part (the job
   * must not depend on how many threads run it), so the first calls never wait for a worker
   * to boot, and a worker that cannot start (a main thread that never yields to the event
   * loop can delay that) cannot hang the caller.
   */
  run(exportName: string, args: readonly number[], helpers: number, local: () => void): void {
    const job = this.jobIndex.get(exportName);
    if (job === undefined) throw new Error(`worker pool: unknown kernel ${exportName}`);
    if (args.length > MAX_ARGS) throw new Error(`worker pool: ${args.length} arguments, at most ${MAX_ARGS}`);
    this.ensureWorkers(Math.min(helpers, this.maxWorkers));
    const ctl = this.control;
    let n = 0;
    while (n < Math.min(helpers, this.workers.length) && Atomics.load(ctl, n * SLOT_WORDS + READY) === 1) n++;
    ctl[this.argsOffset] = job;
    ctl[this.argsOffset + 1] = args.length;
    for (let i = 0; i < args.length; i++) ctl[this.argsOffset + 2 + i] = args[i];
    for (let w = 0; w < n; w++) {
      Atomics.add(ctl, w * SLOT_WORDS, 1);
      Atomics.notify(ctl, w * SLOT_WORDS);
    }
    let localError: unknown;
    try {
      local();
    } catch (e) {
      localError = e;
    }
    // Wait for every helper even when the local share failed: the next job reuses the memory.
    let failed = false;
    for (let w = 0; w < n; w++) {
      const doneWord = w * SLOT_WORDS + 1;
      const expected = this.doneSeen[w] + 1;
      for (;;) {
        const done = Atomics.load(ctl, doneWord);
        if (done === expected) break;
        if (Atomics.load(ctl, w * SLOT_WORDS + 2) === 2) {
          throw new Error('worker pool: a kernel worker could not instantiate the WebAssembly module');
        }
        Atomics.wait(ctl, doneWord, done, 1000);
      }
      this.doneSeen[w] = expected;
      if (Atomics.exchange(ctl, w * SLOT_WORDS + 2, 0) !== 0) failed = true;
    }
    this.lastJobHelpers = n;
    if (localError !== undefined) throw localError;
    if (failed) throw new Error(`worker pool: kernel ${exportName} failed in a worker thread`);
  }
}

/**
 * The parent's Node options for a worker, less --input-type: the worker's source is evaluated
 * as a script that uses require(), and a parent started as `node --input-type=module -e ...`
 * would otherwise make it an ES module (ReferenceError: require is not defined).
 */
function workerExecArgv(): string[] {
  const parent = (globalThis as { process?: { execArgv?: string[] } }).process?.execArgv ?? [];
  const kept: string[] = [];
  for (let i = 0; i < parent.length; i++) {
    if (parent[i] === '--input-type') i++;
    else if (!parent[i].startsWith('--input-type=')) kept.push(parent[i]);
  }
  return kept;
}
