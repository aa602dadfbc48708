/**
 * Bundles the browser page (test/browser/page/main.ts, with @mats/core and @mats/backend-gpu
 * from their TypeScript sources) with esbuild into a fresh directory, next to index.html.
 */
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

/** test/browser/page, from bench/src/browser (sources) or bench/dist/browser (built). */
const pageDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'browser', 'page');

/**
 * backend-cpu (whose hostLinalg the GPU backend uses) loads Node built-ins with a guarded
 * dynamic import and runs without them in a browser. Each `node:` module becomes a module that
 * throws when loaded, so the import fails in the bundle itself, as it would in a browser,
 * without a request for a `node:` URL.
 */
const nodeBuiltinsUnavailable: Plugin = {
  name: 'node-builtins-unavailable',
  setup(build) {
    build.onResolve({ filter: /^node:/ }, (args) => ({ path: args.path, namespace: 'node-builtin' }));
    build.onLoad({ filter: /.*/, namespace: 'node-builtin' }, (args) => ({
      contents: `throw new Error(${JSON.stringify(`${args.path} is not available in a browser`)});`,
      loader: 'js',
    }));
  },
};

/** Builds the page into a new temporary directory and returns its path. */
export async function buildPage(): Promise<string> {
  const outdir = mkdtempSync(join(tmpdir(), 'mats-page-'));
  await build({
    entryPoints: [join(pageDir, 'main.ts')],
    outfile: join(outdir, 'main.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    // The workspace packages' TypeScript sources, as vitest runs them.
    conditions: ['@mats/source'],
    plugins: [nodeBuiltinsUnavailable],
    sourcemap: 'inline',
    logLevel: 'warning',
  });
  copyFileSync(join(pageDir, 'index.html'), join(outdir, 'index.html'));
  return outdir;
}
