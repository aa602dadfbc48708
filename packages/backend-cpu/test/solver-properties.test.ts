import { describeSolverProperties } from '@mats/core/testing';
import { createCpuBackend } from '../src/index.js';

describeSolverProperties('cpu', {
  create: (dtype) => createCpuBackend(dtype),
  dtypes: ['float64', 'float32'],
});
