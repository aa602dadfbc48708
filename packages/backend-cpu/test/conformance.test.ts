/**
 * Every kernel variant against the backend conformance suite, float64 and float32. The
 * WebAssembly variants run with their size thresholds at 0, so every gemm and every level-1
 * operation of the suite (tiny, ragged and transposed ones included) goes through the
 * WebAssembly kernels on tensors in the kernel memory and, for the threaded variant, through
 * the worker threads; one variant keeps the default thresholds (small tensors in ordinary
 * arrays, the TypeScript level-1 kernels, mixed with kernel-memory tensors by gemm). The
 * 'blas' variant runs where the native addon is built.
 */
import { describeBackendConformance } from '@mats/core/testing';
import { createCpuBackend, kernelVariantAvailability, type CpuBackendOptions } from '../src/index.js';

// Start the shared worker pool first, so that the threaded variants' gemms really run on
// several threads (until the workers are ready, gemm runs on the calling thread alone).
await createCpuBackend('float64', { kernels: 'wasm-simd-threads', threads: 3 }).warmUp();

const variants: [string, CpuBackendOptions][] = [
  ['cpu typescript', { kernels: 'typescript' }],
  ['cpu wasm-simd', { kernels: 'wasm-simd', wasmMinWork: 0, level1MinElements: 0 }],
  ['cpu wasm-simd-threads (2 threads)', { kernels: 'wasm-simd-threads', threads: 2, wasmMinWork: 0, threadMinWork: 0, level1MinElements: 0, level1ThreadMinElements: 0 }],
  // More threads than blocks for small products, and more threads than cores here.
  ['cpu wasm-simd-threads (3 threads)', { kernels: 'wasm-simd-threads', threads: 3, wasmMinWork: 0, threadMinWork: 0, level1MinElements: 0, level1ThreadMinElements: 0 }],
  ['cpu auto (default thresholds)', {}],
];
// The native BLAS where it is built (test/native-blas.test.ts fails when CI requires it and it is not).
if (kernelVariantAvailability('blas').available) {
  variants.push(['cpu blas (2 threads)', { kernels: 'blas', threads: 2, level1MinElements: 0, level1ThreadMinElements: 0 }]);
}

for (const [label, options] of variants) {
  describeBackendConformance(label, {
    create: (dtype) => createCpuBackend(dtype, options),
    dtypes: ['float64', 'float32'],
  });
}
