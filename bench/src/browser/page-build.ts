/**
 * Bundles the browser page (test/browser/page/main.ts, with @mats/core and @mats/backend-gpu
 * from their TypeScript sources) with esbuild into a fresh directory, next to index.html.
 */
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** test/browser/page, from bench/src/browser (sources) or bench/dist/browser (built). */
const pageDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'browser', 'page');

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
    sourcemap: 'inline',
    logLevel: 'warning',
  });
  copyFileSync(join(pageDir, 'index.html'), join(outdir, 'index.html'));
  return outdir;
}
