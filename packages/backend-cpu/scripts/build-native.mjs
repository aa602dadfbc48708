#!/usr/bin/env node
/**
 * Builds the optional native BLAS addon (native/blas.c -> dist-native/mats-blas.node) with the
 * system C compiler against the system BLAS (OpenBLAS: Debian's libopenblas-dev), using the
 * Node-API headers that ship with Node, so nothing is downloaded.
 *
 * The CPU backend runs without the addon (its 'blas' kernel variant is then unavailable), so a
 * failed build only prints why, unless MATS_REQUIRE_NATIVE_BLAS=1 (CI), where it fails.
 * MATS_BLAS_LIBS overrides the link flags (default -lopenblas); they must provide CBLAS and
 * LAPACK's dpotrf/dpotri, e.g. "-lcblas -lblas -llapack" (linked with -z now, so a missing
 * symbol fails the addon's load, which the backend reports, instead of a later call). Only
 * OpenBLAS reports its kernel and threads through info().
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const source = path.join(root, 'native', 'blas.c');
const outDir = path.join(root, 'dist-native');
const output = path.join(outDir, 'mats-blas.node');
const required = process.env.MATS_REQUIRE_NATIVE_BLAS === '1';
const libs = (process.env.MATS_BLAS_LIBS ?? '-lopenblas').split(/\s+/).filter(Boolean);
const openblas = libs.includes('-lopenblas');
const nodeInclude = path.resolve(path.dirname(process.execPath), '..', 'include', 'node');

function fail(reason) {
  const message = `native BLAS addon not built (${reason}); the CPU backend will use its WebAssembly kernels`;
  if (required) {
    console.error(`error: ${message}; MATS_REQUIRE_NATIVE_BLAS=1 requires it`);
    process.exit(1);
  }
  console.warn(`note: ${message}`);
  process.exit(0);
}

const compiler = process.env.CC ?? 'cc';
const flags = ['-O2', '-shared', '-fPIC', '-Wall', '-Werror', '-Wl,-z,now', `-I${nodeInclude}`, ...(openblas ? ['-DMATS_OPENBLAS'] : [])];
// Up to date when built from this source by this script with these flags (the stamp records them).
const stampFile = path.join(outDir, 'mats-blas.stamp');
const stamp = createHash('sha256')
  .update(JSON.stringify([readFileSync(source, 'utf8'), readFileSync(fileURLToPath(import.meta.url), 'utf8'), compiler, flags, libs]))
  .digest('hex');
if (existsSync(output) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) process.exit(0);
if (!existsSync(path.join(nodeInclude, 'node_api.h'))) fail(`no Node-API headers at ${nodeInclude}`);
mkdirSync(outDir, { recursive: true });
rmSync(stampFile, { force: true });
const temporary = `${output}.${process.pid}.tmp`;
const args = [...flags, source, ...libs, '-o', temporary];
try {
  execFileSync(compiler, args, { stdio: ['ignore', 'inherit', 'pipe'] });
} catch (e) {
  rmSync(temporary, { force: true });
  const stderr = e.stderr?.toString().trim().split('\n').slice(-3).join(' | ');
  fail(`${compiler} ${args.join(' ')} failed${stderr ? `: ${stderr}` : `: ${e.message}`}`);
}
renameSync(temporary, output); // whole or not at all: never a half-written addon
writeFileSync(stampFile, stamp);
console.log(`built ${path.relative(process.cwd(), output)} (${libs.join(' ')})`);
