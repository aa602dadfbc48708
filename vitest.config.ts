import { configDefaults, defineConfig } from 'vitest/config';

// Tests run on the TypeScript sources: the "@mats/source" export condition points each
// workspace package at its src/ entry, so no build is needed between an edit and a test.
const conditions = ['@mats/source', 'module', 'node', 'import', 'default'];

// The 'outside' project tests the packed packages installed in a temporary folder, as users
// get them (test/outside/install.ts); its global setup packs and installs once per run, and only
// when one of its files is selected. It needs `npm run build` first (npm test does it).
const OUTSIDE = 'test/outside/**/*.test.ts';
const WASM_HOST_LINALG = ['factorizations', 'host-linalg', 'spd-inverse-gram'].map((f) => `packages/backend-cpu/test/${f}.test.ts`);

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: conditions } },
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'workspace',
          include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts', 'examples/**/*.test.ts', 'bench/test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, OUTSIDE],
        },
      },
      {
        extends: true,
        // Where the native BLAS is built, 'auto' hands the host factorizations' gemm and the SPD
        // inverse to it for the whole process; these files run again on the WebAssembly kernels
        // (what browsers and installs without OpenBLAS run), so that path stays tested.
        test: {
          name: 'host-linalg-wasm',
          include: WASM_HOST_LINALG,
          env: { MATS_CPU_KERNELS: 'wasm-simd-threads' },
        },
      },
      {
        extends: true,
        // Child processes (npm, tsc, vitest) on a shared 2-core machine: minutes, not seconds.
        test: { name: 'outside', include: [OUTSIDE], globalSetup: ['test/outside/global-setup.ts'], testTimeout: 600_000, hookTimeout: 900_000 },
      },
    ],
  },
});
