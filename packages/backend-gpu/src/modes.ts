/**
 * Which gpu.js mode can run here, and why the others cannot. gpu.js itself picks a mode
 * silently (and falls back to its CPU kernels with a console warning); the backend decides up
 * front, says which mode it took, and refuses a GPU-less mode when asked for a GPU.
 */
import { CPUKernel, HeadlessGLKernel, WebAssemblyKernel, WebGL2Kernel, WebGLKernel } from 'gpu.js';
import { GpuUnavailableError } from './errors.js';

/** The gpu.js modes this backend runs on, best first. */
export type GpuMode = 'headlessgl' | 'webgl2' | 'webgl' | 'webasm' | 'cpu';

/** Modes that run on a GPU (or a software GL renderer standing in for one). */
export const GL_MODES: readonly GpuMode[] = ['headlessgl', 'webgl2', 'webgl'];

/** Every mode, in the order the default choice tries them. */
export const ALL_MODES: readonly GpuMode[] = ['headlessgl', 'webgl2', 'webgl', 'webasm', 'cpu'];

/** The gpu.js kernel class behind each mode. */
export const KERNEL_CLASS = {
  headlessgl: HeadlessGLKernel,
  webgl2: WebGL2Kernel,
  webgl: WebGLKernel,
  webasm: WebAssemblyKernel,
  cpu: CPUKernel,
} as const;

export function isGlMode(mode: GpuMode): boolean {
  return GL_MODES.includes(mode);
}

/** Why a mode cannot run here, or null when it can. */
export function unavailableReason(mode: GpuMode): string | null {
  const Kernel = KERNEL_CLASS[mode];
  let supported = false;
  try {
    supported = Kernel.isSupported;
  } catch (e) {
    return `probing it threw: ${(e as Error).message}`;
  }
  if (!supported) return notSupportedReason(mode);
  if (isGlMode(mode)) {
    const features = Kernel.features as { isTextureFloat?: boolean; isFloatRead?: boolean } | null;
    if (!features || !features.isTextureFloat || !features.isFloatRead) {
      return 'the context has no float32 textures (OES_texture_float and float readback), which single precision needs';
    }
  }
  return null;
}

function notSupportedReason(mode: GpuMode): string {
  const inNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';
  switch (mode) {
    case 'headlessgl':
      if (!inNode) return 'headless-gl exists only in Node';
      return (
        'no headless-gl context: the optional `gl` package is not built (apt-get install build-essential ' +
        'libxi-dev libglu1-mesa-dev libglew-dev pkg-config, then npm rebuild gl) or there is no X display ' +
        `(DISPLAY is ${process.env.DISPLAY ? `'${process.env.DISPLAY}'` : 'unset'}; run under xvfb-run)`
      );
    case 'webgl2':
    case 'webgl':
      return inNode ? `${mode} exists only in a browser` : `the browser gave no ${mode} context (disabled, blocklisted or no GPU process)`;
    case 'webasm':
      return 'WebAssembly is not available';
    case 'cpu':
      return 'unreachable: the cpu mode always runs';
  }
}

/**
 * Chooses the mode to run: the requested one if it can run, else the best available one.
 * With requireGpu, only GL modes qualify and the error names each and why it failed.
 */
export function chooseMode(requested: GpuMode | undefined, requireGpu: boolean): GpuMode {
  if (requested !== undefined) {
    if (!ALL_MODES.includes(requested)) {
      throw new TypeError(`gpu backend: unknown mode '${String(requested)}'; use one of ${ALL_MODES.join(', ')}`);
    }
    if (requireGpu && !isGlMode(requested)) {
      throw new GpuUnavailableError(
        `gpu backend: mode '${requested}' runs on the CPU, but requireGpu is set; ask for ${GL_MODES.join(', ')} or drop requireGpu`,
        [{ mode: requested, reason: 'not a GPU mode' }],
      );
    }
    const reason = unavailableReason(requested);
    if (reason !== null) {
      throw new GpuUnavailableError(`gpu backend: mode '${requested}' cannot run here: ${reason}`, [{ mode: requested, reason }]);
    }
    return requested;
  }
  const candidates = requireGpu ? GL_MODES : ALL_MODES;
  const attempts: { mode: string; reason: string }[] = [];
  for (const mode of candidates) {
    const reason = unavailableReason(mode);
    if (reason === null) return mode;
    attempts.push({ mode, reason });
  }
  throw new GpuUnavailableError(
    'gpu backend: no GPU context could be had (requireGpu is set, so it will not run on the CPU):\n' +
      attempts.map((a) => `  ${a.mode}: ${a.reason}`).join('\n'),
    attempts,
  );
}
