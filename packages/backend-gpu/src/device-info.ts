import type { GPU } from 'gpu.js';

/**
 * The renderer behind a GL context: the unmasked renderer string where the context offers
 * WEBGL_debug_renderer_info (browsers), else RENDERER and VERSION (headless-gl says 'ANGLE').
 * Says 'no context yet' before the first kernel has run.
 */
export function describeDevice(gpu: GPU): string {
  const gl = (gpu as unknown as { context: WebGLLike | null }).context;
  if (!gl || typeof gl.getParameter !== 'function') return 'no context yet';
  const debug = gl.getExtension('WEBGL_debug_renderer_info') as { UNMASKED_RENDERER_WEBGL: number } | null;
  const renderer = debug ? gl.getParameter(debug.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER);
  return `${String(renderer)} (${String(gl.getParameter(gl.VERSION))})`;
}

interface WebGLLike {
  RENDERER: number;
  VERSION: number;
  getParameter(name: number): unknown;
  getExtension(name: string): unknown;
}
