/**
 * The native BLAS for the host linear algebra (hostGemm, spdInverse), when the 'blas' variant is
 * what this process's default backend resolves to ('auto', or MATS_CPU_KERNELS=blas): a process
 * told to run the WebAssembly or TypeScript kernels gets them in its factorizations too.
 */
import { resolveVariant } from '../kernel-variants.js';
import { nativeBlas, type NativeBlas } from './native-blas.js';

let resolved: { blas: NativeBlas | undefined } | undefined;

export function hostBlas(): NativeBlas | undefined {
  if (resolved === undefined) {
    const blas = resolveVariant({}).variant === 'blas' ? nativeBlas() : undefined;
    resolved = { blas: typeof blas === 'object' ? blas : undefined };
  }
  return resolved.blas;
}
