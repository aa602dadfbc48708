/**
 * The process-wide WebAssembly kernel instance: one shared memory (so worker threads can see
 * it), the main thread's instance of the kernel module, and the worker pool, all created on
 * first use. JavaScript is single-threaded, so one kernel call at a time runs from it,
 * whichever backend instance calls.
 *
 * Layout: bytes [0, 64) hold the atomic words of a threaded job (the block counter at 0, the
 * scratch-slot counter at 4), then one scratch tile per thread, then the allocator's heap
 * (memory-allocator.ts): gemm workspaces, factorizations, prepared operators. The memory
 * never shrinks (WebAssembly cannot): freed ranges are reused.
 */
import { kernelModule } from './kernel-module.js';
import { MemoryAllocator } from './memory-allocator.js';
import { nodeBuiltins } from './node-builtins.js';
import type { WasmMemory, WasmModule } from './webassembly-api.js';
import { wasmApi } from './webassembly-api.js';
import { WorkerPool } from './worker-pool.js';

const PAGE = 65536;
/** wasm32 addresses 4 GiB; a shared memory must declare its maximum up front. */
const MAX_PAGES = 65536;
export const COUNTER_ADDRESS = 0;
/** Most worker threads one process starts for the kernels. */
export const MAX_HELPERS = 63;
/** One scratch tile per thread (assembly/tile.ts, TILE_SCRATCH_BYTES). */
export const TILE_SCRATCH_ADDRESS = 64;
const TILE_SCRATCH_BYTES = 256;
const HEAP_BASE = TILE_SCRATCH_ADDRESS + (MAX_HELPERS + 1) * TILE_SCRATCH_BYTES;

type Claim = (...args: number[]) => number;
type Kernel = (...args: number[]) => number | void;

/** The module's exports (assembly/index.ts); *F64 and *F32 copies of each. */
export interface KernelExports {
  stridedGemmF64: Claim;
  stridedGemmF32: Claim;
  [name: string]: Kernel;
}

/** Exports that worker threads run together with the caller (they take only integers). */
export const THREADED_KERNELS = [
  'stridedGemmF64',
  'stridedGemmF32',
  'symvF64',
  'symvF32',
  'trsmRowsF64',
  'trsmRowsF32',
  'gramF64',
  'gramF32',
  'kfacF64',
  'kfacF32',
  'mapF64',
  'mapF32',
  'reduceF64',
  'reduceF32',
  'taskArithmeticF64',
  'taskArithmeticF32',
  'dareF64',
  'dareF32',
] as const;

export class KernelMemory {
  readonly memory: WasmMemory;
  readonly exports: KernelExports;
  readonly heap: MemoryAllocator;
  /** Every buffer object the memory has had (growth makes a new one over the same bytes). */
  private readonly buffers = new WeakSet<object>();
  private pool: WorkerPool | undefined;
  private views: { f64: Float64Array; f32: Float32Array; i32: Int32Array; u8: Uint8Array } | undefined;

  constructor(private readonly module: WasmModule) {
    const api = wasmApi!;
    this.memory = new api.Memory({ initial: Math.ceil(HEAP_BASE / PAGE), maximum: MAX_PAGES, shared: true });
    this.exports = new api.Instance(module, { env: { memory: this.memory } }).exports as unknown as KernelExports;
    this.heap = new MemoryAllocator(HEAP_BASE, (bytes) => this.growTo(bytes), MAX_PAGES * PAGE);
  }

  /** Largest single allocation the memory could ever hold, in bytes. */
  static readonly maxAllocationBytes = MAX_PAGES * PAGE - HEAP_BASE;

  /** Grows the memory to at least `bytes` bytes (throws when the process cannot get them). */
  private growTo(bytes: number): void {
    const needed = Math.ceil(bytes / PAGE);
    const current = this.memory.buffer.byteLength / PAGE;
    if (needed > current) {
      this.memory.grow(needed - current);
      this.views = undefined;
    }
  }

  /**
   * `bytes` bytes of the heap, or undefined when the memory cannot grow to hold them (more
   * than 4 GiB in all, or the process is short of memory): callers then take a path that
   * needs no kernel memory.
   */
  tryAlloc(bytes: number): number | undefined {
    if (bytes > KernelMemory.maxAllocationBytes) return undefined;
    try {
      return this.heap.alloc(bytes);
    } catch {
      return undefined;
    }
  }

  /** Views over the whole memory, refreshed after growth (shared memory never detaches old ones). */
  view(): { f64: Float64Array; f32: Float32Array; i32: Int32Array; u8: Uint8Array } {
    if (!this.views) {
      const buffer = this.memory.buffer;
      this.buffers.add(buffer);
      this.views = { f64: new Float64Array(buffer), f32: new Float32Array(buffer), i32: new Int32Array(buffer), u8: new Uint8Array(buffer) };
    }
    return this.views;
  }

  /** Whether an ArrayBuffer(View)'s buffer is this memory (so kernels can address it). */
  owns(buffer: ArrayBufferLike): boolean {
    this.view();
    return this.buffers.has(buffer);
  }

  /**
   * Runs a threaded kernel (one of THREADED_KERNELS) on `threads` threads, the caller's
   * included: zeroes the job's counters, then every thread claims work until none is left.
   */
  runClaim(name: (typeof THREADED_KERNELS)[number], args: readonly number[], threads: number): void {
    const i32 = this.view().i32;
    Atomics.store(i32, COUNTER_ADDRESS / 4, 0);
    Atomics.store(i32, COUNTER_ADDRESS / 4 + 1, 0);
    const kernel = this.exports[name] as Claim;
    if (threads > 1) this.workers().run(name, args, threads - 1, () => kernel(...args));
    else kernel(...args);
  }

  /** The worker pool; its workers start on first threaded use. */
  workers(): WorkerPool {
    this.pool ??= new WorkerPool(this.module, this.memory, MAX_HELPERS, THREADED_KERNELS);
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
