import { describeSolverProperties } from '@mats/core/testing';
import { createGpuBackend } from '../src/index.js';
import { describeWithHeadlessGl } from './headlessgl.js';

// Operators, dispatch and PCG on this backend, with tolerances from float32's unit roundoff.
describeSolverProperties('gpu/cpu', {
  create: (dtype) => createGpuBackend({ dtype, mode: 'cpu' }),
  dtypes: ['float32'],
});

describeWithHeadlessGl('solver properties on headless-gl', () => {
  describeSolverProperties('gpu/headlessgl', {
    create: (dtype) => createGpuBackend({ dtype, mode: 'headlessgl', requireGpu: true }),
    dtypes: ['float32'],
  });
});
