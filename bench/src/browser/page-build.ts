/**
 * Bundles a browser page with esbuild (workspace packages from their TypeScript sources, as
 * vitest runs them) into a directory, next to its static files. buildPage() is the GPU test
 * page (test/browser/page/main.ts); buildBundle() builds any page (the web merge app's too).
 */
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** test/browser/page, from bench/src/browser (sources) or bench/dist/browser (built). */
const pageDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'browser', 'page');

export interface BundleOptions {
  /** Output name (without .js) -> TypeScript entry file. */
  readonly entryPoints: Readonly<Record<string, string>>;
  /** Files copied beside the bundles under their own names (index.html, styles, images). */
  readonly staticFiles: readonly string[];
  /** Where to write (default: a new temporary directory). */
  readonly outdir?: string;
  /** Inline source maps (default true: a test's stack traces point at the sources). */
  readonly sourcemap?: boolean;
  readonly minify?: boolean;
}

/** Builds the bundles and copies the static files; returns the directory. */
export async function buildBundle(options: BundleOptions): Promise<string> {
  const outdir = options.outdir ?? mkdtempSync(join(tmpdir(), 'mats-page-'));
  await build({
    entryPoints: Object.entries(options.entryPoints).map(([out, in_]) => ({ out, in: in_ })),
    outdir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    // The workspace packages' TypeScript sources, as vitest runs them.
    conditions: ['@mats/source'],
    sourcemap: options.sourcemap === false ? false : 'inline',
    minify: options.minify ?? false,
    logLevel: 'warning',
  });
  for (const file of options.staticFiles) copyFileSync(file, join(outdir, basename(file)));
  return outdir;
}

/**
 * What a browser bundle of `specifier` (a package entry, resolved from resolveDir) is made of:
 * every module it takes and every import those make. Built in memory; esbuild fails on a node:
 * import for platform 'browser', so a build that returns has none unresolved.
 */
export async function browserBundleModules(specifier: string, resolveDir: string, conditions: readonly string[] = []): Promise<{ modules: string[]; imports: string[] }> {
  const result = await build({
    stdin: { contents: `export * from '${specifier}';`, resolveDir, loader: 'js' },
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    conditions: [...conditions],
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const inputs = Object.values(result.metafile.inputs);
  return { modules: Object.keys(result.metafile.inputs), imports: inputs.flatMap((i) => i.imports.map((x) => x.path)) };
}

/** Builds the GPU test page into a new temporary directory and returns its path. */
export function buildPage(): Promise<string> {
  return buildBundle({ entryPoints: { main: join(pageDir, 'main.ts') }, staticFiles: [join(pageDir, 'index.html')] });
}
