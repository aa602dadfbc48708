import { describeBackendConformance } from '@mats/core/testing';
import { createCpuBackend } from '../src/index.js';

describeBackendConformance('cpu', {
  create: (dtype) => createCpuBackend(dtype),
  dtypes: ['float64', 'float32'],
});
