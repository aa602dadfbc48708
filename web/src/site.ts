/** The web app's files: what the bundler builds (page and worker) and what it copies beside them. */
import { fileURLToPath } from 'node:url';

/** web/, from web/src (sources, as vitest runs them) or web/dist (built). */
const webDir = fileURLToPath(new URL('..', import.meta.url));

export const SITE = {
  /** Output name -> entry: the page's script, and the worker it starts (`new URL('./worker.js', import.meta.url)`). */
  entryPoints: { main: `${webDir}page/main.ts`, worker: `${webDir}worker/merge-worker.ts` },
  staticFiles: [`${webDir}page/index.html`, `${webDir}page/style.css`],
} as const;
