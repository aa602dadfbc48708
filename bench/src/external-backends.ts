/**
 * --backend SPEC: a Backend of your own, measured beside ours. SPEC is a module path or a
 * package name whose module exports a factory (createBackend(dtype), or the default export)
 * and optionally `dtypes`. Before anything is timed, core's backend conformance suite runs on
 * it (bench/test/backend-conformance.test.ts, in a vitest child process); a backend that fails
 * is named in the report with the failures and is not timed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Backend, DType } from '@mats/core';
import type { BenchBackend } from './backends.js';

const BENCH_DIR = fileURLToPath(new URL('../', import.meta.url));
const CONFORMANCE_TEST = 'test/backend-conformance.test.ts';

/** An import specifier for SPEC: a file URL for a path, the name itself for a package. */
export function moduleSpecifier(spec: string): string {
  return spec.startsWith('.') || path.isAbsolute(spec) ? pathToFileURL(path.resolve(spec)).href : spec;
}

interface VitestJson {
  numTotalTests: number;
  numPassedTests: number;
  numFailedTests: number;
  testResults: { message?: string; assertionResults: { fullName: string; status: string; failureMessages: string[] }[] }[];
}

/** Runs the conformance suite on the module; returns a summary, or the failures. */
export function runConformance(spec: string): { passed: boolean; summary: string } {
  const vitest = path.join(path.dirname(createRequire(import.meta.url).resolve('vitest/package.json')), 'vitest.mjs');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mats-conformance-'));
  const output = path.join(dir, 'result.json');
  try {
    const r = spawnSync(process.execPath, [vitest, 'run', CONFORMANCE_TEST, '--reporter=json', `--outputFile=${output}`], {
      cwd: BENCH_DIR,
      env: { ...process.env, MATS_BENCH_BACKEND: moduleSpecifier(spec) },
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
    let result: VitestJson;
    try {
      result = JSON.parse(readFileSync(output, 'utf8')) as VitestJson;
    } catch {
      return { passed: false, summary: `the conformance suite did not run (exit ${r.status}): ${String(r.stderr).trim().split('\n').slice(-3).join(' ')}` };
    }
    const failures = result.testResults.flatMap((f) => f.assertionResults.filter((a) => a.status === 'failed'));
    const loadError = result.testResults.map((f) => f.message).find((m) => m);
    if (result.numTotalTests === 0) return { passed: false, summary: `the conformance suite found no tests (${loadError ?? 'the module did not load'})` };
    if (failures.length > 0 || result.numFailedTests > 0) {
      const first = failures.slice(0, 3).map((f) => `${f.fullName}: ${(f.failureMessages[0] ?? '').split('\n')[0]}`);
      return { passed: false, summary: `${result.numFailedTests} of ${result.numTotalTests} conformance tests fail (${first.join('; ')})` };
    }
    return { passed: true, summary: `passes core's backend conformance suite (${result.numPassedTests} tests)` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Loads each SPEC that passes the conformance suite; the notes say what happened to each. */
export async function loadExternalBackends(specs: readonly string[], log: (line: string) => void): Promise<{ backends: BenchBackend[]; notes: string[] }> {
  const backends: BenchBackend[] = [];
  const notes: string[] = [];
  for (const spec of specs) {
    log(`backend ${spec}: conformance suite`);
    const conformance = runConformance(spec);
    if (!conformance.passed) {
      notes.push(`backend ${spec} is not timed: it ${conformance.summary.startsWith('the') ? `fails: ${conformance.summary}` : `fails core's conformance suite: ${conformance.summary}`}`);
      continue;
    }
    const module = (await import(moduleSpecifier(spec))) as { createBackend?: (dtype: DType) => Backend | Promise<Backend>; default?: (dtype: DType) => Backend | Promise<Backend>; dtypes?: readonly DType[] };
    const create = module.createBackend ?? module.default;
    if (typeof create !== 'function') {
      notes.push(`backend ${spec} is not timed: it exports no createBackend(dtype) and no default factory`);
      continue;
    }
    const dtypes = module.dtypes ?? (['float64', 'float32'] as const);
    const probe = await create(dtypes[0]);
    const label = `${probe.name} (${probe.mode})`;
    notes.push(`backend ${spec}: ${label}, ${dtypes.join(' and ')}; ${conformance.summary}`);
    backends.push({ label, source: spec, dtypes, create: (dtype) => create(dtype) });
  }
  return { backends, notes };
}
