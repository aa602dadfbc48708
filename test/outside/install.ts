/**
 * Packs every package with `npm pack` and installs the tarballs into an empty folder outside
 * the repository, as a user would: third-party dependencies come from the npm registry (through
 * npm's cache, which `npm ci` has filled). Runs once per test run, in the background, from the
 * outside project's global setup; the tests wait for the status file it writes.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runProcess, type ProcessResult } from '../run-process.js';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const PACKAGES = ['core', 'backend-cpu', 'backend-gpu', 'merge'] as const;

/** What the tests read once the install is done (status.json in the root folder). */
export interface InstallStatus {
  readonly ok: boolean;
  /** Why it failed, with the failing command's output. */
  readonly error?: string;
  /** The folder the tarballs are installed in (package.json, node_modules). */
  readonly app: string;
  /** Each tarball: its package, path and the files it holds. */
  readonly packs: readonly { name: string; filename: string; files: string[] }[];
  /** Seconds spent packing and installing. */
  readonly seconds: { pack: number; install: number };
}

export const statusFile = (root: string): string => join(root, 'status.json');

/** The environment for child processes: the parent's, without vitest's own variables. */
export function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(VITEST|TEST$|NODE_OPTIONS$|npm_)/.test(k)) env[k] = v;
  env.FORCE_COLOR = '0';
  env.NO_COLOR = '1';
  return env;
}

/** Runs a command with the clean environment; resolves with its exit code and output. */
export function run(command: string, args: readonly string[], cwd: string, timeoutMs = 600_000): Promise<ProcessResult> {
  return runProcess(command, args, { cwd, env: cleanEnv(), timeoutMs });
}

async function required(command: string, args: readonly string[], cwd: string): Promise<string> {
  const r = await run(command, args, cwd);
  if (r.code !== 0) throw new Error(`${command} ${args.join(' ')} (in ${cwd}) exited with ${r.code}:\n${r.stderr.slice(-4000)}\n${r.stdout.slice(-2000)}`);
  return r.stdout;
}

/** The version of a package installed in the repository (so the install hits npm's cache). */
function repoVersion(name: string): string {
  return (JSON.parse(readFileSync(join(REPO, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
}

/** Packs and installs into root/app; writes root/status.json either way. */
export async function packAndInstall(root: string): Promise<void> {
  const app = join(root, 'app');
  const packsDir = join(root, 'packs');
  let status: InstallStatus = { ok: false, app, packs: [], seconds: { pack: 0, install: 0 } };
  try {
    for (const p of PACKAGES) {
      if (!existsSync(join(REPO, 'packages', p, 'dist', 'index.js'))) throw new Error(`packages/${p}/dist is missing: run npm run build first (npm test does)`);
    }
    if (!existsSync(join(REPO, 'packages', 'backend-cpu', 'dist-wasm', 'kernels.wasm'))) throw new Error('packages/backend-cpu/dist-wasm/kernels.wasm is missing: run npm run build first');
    mkdirSync(packsDir, { recursive: true });
    mkdirSync(app, { recursive: true });

    let t = performance.now();
    const workspaces = PACKAGES.flatMap((p) => ['-w', `packages/${p}`]);
    const packed = JSON.parse(await required('npm', ['pack', ...workspaces, '--pack-destination', packsDir, '--json', '--loglevel=error'], REPO)) as {
      name: string;
      filename: string;
      files: { path: string }[];
    }[];
    const packs = packed.map((p) => ({ name: p.name, filename: join(packsDir, p.filename), files: p.files.map((f) => f.path) }));
    const pack = (performance.now() - t) / 1000;

    t = performance.now();
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'outside-the-workspace', private: true, type: 'module' }, null, 2));
    // --ignore-scripts: the install script of gl (gpu.js' optional native module) downloads
    // prebuilt binaries from GitHub or compiles for minutes. Without it built, the GPU backend
    // runs in gpu.js' CPU mode, as for a user without gl. @mats/backend-cpu's install script
    // builds its optional native BLAS addon; skipped here too, so the installed backend runs the
    // WebAssembly kernels it ships (the tests check that they did ship).
    await required(
      'npm',
      [
        'install',
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        '--ignore-scripts',
        '--loglevel=error',
        ...packs.map((p) => p.filename),
        // What the README tells a user to add: vitest and fast-check for @mats/core/testing.
        `vitest@${repoVersion('vitest')}`,
        `fast-check@${repoVersion('fast-check')}`,
        `@types/node@${repoVersion('@types/node')}`,
      ],
      app,
    );
    status = { ok: true, app, packs, seconds: { pack, install: (performance.now() - t) / 1000 } };
  } catch (e) {
    status = { ...status, ok: false, error: e instanceof Error ? e.message : String(e) };
  }
  writeFileSync(statusFile(root), JSON.stringify(status, null, 2));
}
