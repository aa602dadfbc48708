/**
 * `npm run web`: bundles the page and its worker (esbuild, the GPU test page's machinery) and
 * serves them on http://127.0.0.1:PORT/ (PORT: the environment's, else 8080) until Ctrl-C.
 * 127.0.0.1 is a secure context, so the page may use the Origin Private File System.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildBundle } from '@mats/bench/browser/page-build';
import { serveDirectory } from '@mats/bench/browser/static-server';
import { SITE } from './site.js';

const outdir = fileURLToPath(new URL('../dist-site/', import.meta.url));
rmSync(outdir, { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });
await buildBundle({ ...SITE, outdir, sourcemap: false, minify: true });
const port = Number(process.env.PORT ?? 8080);
const server = await serveDirectory(outdir, port);
process.stdout.write(`the merge page is at ${server.url} (built into ${outdir}); Ctrl-C stops the server\n`);
process.once('SIGINT', () => {
  void server.close().then(() => process.exit(0));
});
