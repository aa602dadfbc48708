/** No context could be had for the requested gpu.js mode(s); names each mode and why. */
export class GpuUnavailableError extends Error {
  override readonly name = 'GpuUnavailableError';
  constructor(
    message: string,
    /** Each mode that was tried, with the reason it could not run. */
    readonly attempts: readonly { mode: string; reason: string }[],
  ) {
    super(message);
  }
}

/**
 * gpu.js swapped a kernel for its CPU fallback (it does so with only a console warning when a
 * shader fails to compile). The backend would then say one mode and run another, so it throws.
 */
export class GpuKernelFallbackError extends Error {
  override readonly name = 'GpuKernelFallbackError';
  constructor(kernel: string, expectedMode: string, actualMode: string, reason: string | undefined) {
    super(
      `gpu backend: kernel '${kernel}' fell back from ${expectedMode} to ${actualMode}` +
        (reason ? ` (${reason})` : '') +
        `; the backend refuses to run a mode other than the one it reports`,
    );
  }
}
