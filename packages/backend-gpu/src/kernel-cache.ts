/**
 * Compile-once cache of gpu.js kernels, keyed by operation and by the exact sizes and buffer
 * layouts the kernel is built for. gpu.js bakes argument sizes into each shader and does not
 * check them on later calls, so a kernel must only ever see the layout it was built for; the
 * key makes that so, and gpu.js' own kernel switching never has to step in (it is counted).
 */
import type { GPU, IGPUKernelSettings, IKernelRunShortcut, ITypesList } from 'gpu.js';
import { GpuKernelFallbackError } from './errors.js';
import { KERNEL_CLASS, type GpuMode } from './modes.js';

/** What a kernel needs besides its source: output dimensions and integer constants. */
export interface KernelSpec {
  source: string;
  /** gpu.js output dimensions: [x] or [x, y] (x varies fastest). */
  output: number[];
  constants?: Record<string, number>;
  /** Integer scalar arguments (copyRange's offsets): sets gpu.js' strictIntegers. */
  integerArguments?: boolean;
}

export class KernelCache {
  private readonly kernels = new Map<string, { run: IKernelRunShortcut; kernel: unknown }>();
  private destroyed = false;
  /** How many times gpu.js swapped a cached kernel for another signature (should stay 0). */
  switches = 0;

  constructor(
    private readonly gpu: GPU,
    private readonly mode: GpuMode,
  ) {}

  /** Number of distinct kernels compiled so far. */
  get size(): number {
    return this.kernels.size;
  }

  /** Runs the kernel cached under key, building it from spec() on first use. */
  run(key: string, spec: () => KernelSpec, args: unknown[]): unknown {
    if (this.destroyed) throw new Error(`gpu backend: used after destroy() (kernel '${key}')`);
    let entry = this.kernels.get(key);
    if (entry === undefined) {
      const built = spec();
      entry = { run: this.gpu.createKernel(built.source, this.settings(built)), kernel: null };
      this.kernels.set(key, entry);
    }
    const out = (entry.run as unknown as (...a: unknown[]) => unknown)(...args);
    const kernel = entry.run.kernel as unknown as { constructor: { name: string; mode?: string }; fallbackReason?: string };
    if (kernel.constructor !== KERNEL_CLASS[this.mode]) {
      throw new GpuKernelFallbackError(key, this.mode, kernel.constructor.name, kernel.fallbackReason);
    }
    if (entry.kernel === null) entry.kernel = kernel;
    else if (entry.kernel !== kernel) {
      this.switches++;
      entry.kernel = kernel;
    }
    return out;
  }

  private settings(spec: KernelSpec): IGPUKernelSettings {
    const constants = spec.constants ?? {};
    const constantTypes: ITypesList = {};
    for (const name of Object.keys(constants)) constantTypes[name] = 'Integer';
    return {
      output: spec.output,
      constants,
      constantTypes,
      // Outputs stay on the device as textures; each call returns a texture of its own
      // (immutable), which the backend deletes when the tensor no longer needs it.
      pipeline: true,
      immutable: true,
      // float32 textures, four values a texel, and highp in the shader: gpu.js' default
      // 'tactic' is the lowest precision the device offers.
      precision: 'single',
      optimizeFloatMemory: true,
      tactic: 'precision',
      strictIntegers: spec.integerArguments === true,
    };
  }

  destroy(): void {
    this.destroyed = true;
    for (const { run } of this.kernels.values()) run.destroy();
    this.kernels.clear();
  }
}
