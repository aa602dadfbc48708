/**
 * numpy as a reference, through python3 when it is installed (never a runtime dependency of
 * the project). Scripts live in bench/python/.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const PYTHON_DIR = fileURLToPath(new URL('../../python/', import.meta.url));

/** numpy's version, or why numpy cannot run here. */
export function numpyAvailable(): { version: string } | { skipped: string } {
  const r = spawnSync('python3', ['-c', 'import numpy; print(numpy.__version__)'], { encoding: 'utf8' });
  if (r.error) return { skipped: `python3 not found (${r.error.message})` };
  if (r.status !== 0) return { skipped: `python3 has no numpy (${r.stderr.trim().split('\n').pop()})` };
  return { version: r.stdout.trim() };
}

/** Runs bench/python/<script> with args and parses the JSON it prints. */
export function runNumpyScript<T>(script: string, args: readonly string[]): T {
  const r = spawnSync('python3', [PYTHON_DIR + script, ...args], { encoding: 'utf8', maxBuffer: 16 << 20 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`python3 ${script} ${args.join(' ')} failed (exit ${r.status}): ${r.stderr.trim()}`);
  return JSON.parse(r.stdout) as T;
}
