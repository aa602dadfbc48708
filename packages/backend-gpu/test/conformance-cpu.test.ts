import { describeBackendConformance } from '@mats/core/testing';
import { createGpuBackend } from '../src/index.js';

// gpu.js' host modes run the same kernel sources, as JavaScript (cpu) and as WebAssembly
// (webasm): they run everywhere, so these suites never skip.
describeBackendConformance('gpu/cpu', {
  create: (dtype) => createGpuBackend({ dtype, mode: 'cpu' }),
  dtypes: ['float32'],
});

describeBackendConformance('gpu/webasm', {
  create: (dtype) => createGpuBackend({ dtype, mode: 'webasm' }),
  dtypes: ['float32'],
});

// The fallback for devices that cancel the compensated sums: reductions read back and finish
// on the host in float64.
describeBackendConformance('gpu/cpu with host reductions', {
  create: (dtype) => createGpuBackend({ dtype, mode: 'cpu', reduction: 'host' }),
  dtypes: ['float32'],
  numRuns: 10,
});
