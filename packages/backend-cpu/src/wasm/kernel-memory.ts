/**
 * The process-wide WebAssembly kernel instance: one shared memory (so worker threads can see
 * it), the main thread's instance of the kernel module, and the worker pool, all created on
 * first use. The memory holds a grow-only workspace; JavaScript is single-threaded, so one
 * gemm at a time uses it, whichever backend instance calls.
 *
 * Layout: bytes [0, 64) hold the atomic work counter, the workspace starts at byte 64.
 * The memory never shrinks (WebAssembly cannot): after a gemm of size n it keeps about
 * 3 n^2 elements of workspace for the next one.
 */
import { kernelModule } from './kernel-module.js';
import { nodeBuiltins } from './node-builtins.js';
import type { WasmMemory, WasmModule } from './webassembly-api.js';
import { wasmApi } from './webassembly-api.js';
import { WorkerPool } from './worker-pool.js';

const PAGE = 65536;
/** wasm32 addresses 4 GiB; a shared memory must declare its maximum up front. */
const MAX_PAGES = 65536;
export const COUNTER_ADDRESS = 0;
export const WORKSPACE_ADDRESS = 64;
/** Most worker threads one process starts for the kernels. */
export const MAX_HELPERS = 63;

export interface KernelExports {
  gemmF64(counter: number, mp: number, mc: number, np: number, nc: number, k: number, ap: number, bp: number, c: number, kc: number): number;
  gemmF32(counter: number, mp: number, mc: number, np: number, nc: number, k: number, ap: number, bp: number, c: number, kc: number): number;
}

export class KernelMemory {
  readonly memory: WasmMemory;
  readonly exports: KernelExports;
  private pool: WorkerPool | undefined;
  private views: { f64: Float64Array; f32: Float32Array; i32: Int32Array } | undefined;

  constructor(private readonly module: WasmModule) {
    const api = wasmApi!;
    this.memory = new api.Memory({ initial: 1, maximum: MAX_PAGES, shared: true });
    this.exports = new api.Instance(module, { env: { memory: this.memory } }).exports as unknown as KernelExports;
  }

  /** Largest workspace the memory can ever hold, in bytes. */
  static readonly maxWorkspaceBytes = MAX_PAGES * PAGE - WORKSPACE_ADDRESS;

  /** Grows the memory so that the workspace holds `bytes` bytes. */
  reserve(bytes: number): void {
    const needed = Math.ceil((WORKSPACE_ADDRESS + bytes) / PAGE);
    const current = this.memory.buffer.byteLength / PAGE;
    if (needed > current) {
      this.memory.grow(needed - current);
      this.views = undefined;
    }
  }

  /** Views over the whole memory, refreshed after growth (shared memory never detaches old ones). */
  view(): { f64: Float64Array; f32: Float32Array; i32: Int32Array } {
    if (!this.views) {
      const buffer = this.memory.buffer;
      this.views = { f64: new Float64Array(buffer), f32: new Float32Array(buffer), i32: new Int32Array(buffer) };
    }
    return this.views;
  }

  /** The worker pool; its workers start on first threaded use. */
  workers(): WorkerPool {
    this.pool ??= new WorkerPool(this.module, this.memory, MAX_HELPERS, ['gemmF64', 'gemmF32']);
    return this.pool;
  }
}

let shared: KernelMemory | undefined;
let failure: string | undefined;

/** The process-wide kernel memory, or a string saying why WebAssembly kernels cannot run. */
export function kernelMemory(): KernelMemory | string {
  if (shared) return shared;
  if (failure !== undefined) return failure;
  const loaded = kernelModule();
  if (!loaded.module) return (failure = loaded.error);
  if (typeof SharedArrayBuffer !== 'function') return (failure = 'SharedArrayBuffer is unavailable');
  try {
    shared = new KernelMemory(loaded.module);
  } catch (e) {
    return (failure = `the kernel module does not instantiate: ${(e as Error).message}`);
  }
  return shared;
}

/** Logical cores available to this process (1 outside Node). */
export function availableCores(): number {
  const os = nodeBuiltins?.os;
  if (!os) return 1;
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}
