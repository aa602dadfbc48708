import { describeBackendConformance } from '@mats/core/testing';
import { createGpuBackend } from '../src/index.js';
import { describeWithHeadlessGl } from './headlessgl.js';

// The real WebGL code path (GLSL shaders, float textures, readPixels) through headless-gl; on
// a machine without a GPU that is Mesa's software renderer behind ANGLE.
describeWithHeadlessGl('gpu backend on headless-gl', () => {
  describeBackendConformance('gpu/headlessgl', {
    create: (dtype) => createGpuBackend({ dtype, mode: 'headlessgl', requireGpu: true }),
    dtypes: ['float32'],
  });
});
