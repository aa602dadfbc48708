import { defineConfig } from 'vitest/config';

// Tests run on the TypeScript sources: the "@mats/source" export condition points each
// workspace package at its src/ entry, so no build is needed between an edit and a test.
const conditions = ['@mats/source', 'module', 'node', 'import', 'default'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: conditions } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts', 'examples/**/*.test.ts', 'bench/test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
