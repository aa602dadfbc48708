/**
 * Finds a Python that has PyTorch, for the tests of examples/torch. Where there is none, those
 * tests are skipped and the skip printed with its reason; CI sets MATS_REQUIRE_TORCH=1 to turn
 * that skip into a failure. MATS_TORCH_PYTHON names the interpreter to use; otherwise
 * /usr/bin/python3 (Debian's python3-torch installs there) and then python3 on PATH are tried.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';
import { runProcess } from '../../test/run-process.js';

export const torchRequired = process.env.MATS_REQUIRE_TORCH === '1';

/** examples/torch: the estimator, with its tests and test models. */
export const TORCH_DIR = fileURLToPath(new URL('../torch/', import.meta.url));

function findTorchPython(): { python: string } | { reason: string } {
  const candidates = process.env.MATS_TORCH_PYTHON ? [process.env.MATS_TORCH_PYTHON] : ['/usr/bin/python3', 'python3'];
  const tried: string[] = [];
  for (const python of candidates) {
    const probe = spawnSync(python, ['-c', 'import sys, torch, numpy; print(sys.executable)'], { encoding: 'utf8' });
    if (probe.status === 0) return { python: probe.stdout.trim() || python }; // an absolute path
    tried.push(`${python}: ${probe.error?.message ?? probe.stderr.trim().split('\n').at(-1)}`);
  }
  return { reason: `no Python with torch and numpy (${tried.join('; ')}); install python3-torch or set MATS_TORCH_PYTHON` };
}

const found = findTorchPython();
export const torchPython: string | undefined = 'python' in found ? found.python : undefined;

/** describe() when PyTorch is installed; otherwise a printed skip, or a failure when required. */
export function describeWithTorch(name: string, body: () => void): void {
  if ('python' in found) {
    describe(name, body);
  } else if (torchRequired) {
    describe(name, () => {
      it('has PyTorch (MATS_REQUIRE_TORCH=1)', () => {
        throw new Error(`MATS_REQUIRE_TORCH=1 but ${found.reason}`);
      });
    });
  } else {
    console.warn(`SKIPPED (no PyTorch): ${name}. ${found.reason}`);
    describe(name, () => {
      it.skip(`skipped: ${found.reason}`, () => {});
    });
  }
}

export interface Finished {
  readonly code: number;
  readonly output: string;
}

/**
 * Runs a command with examples/torch, its tests and test models on PYTHONPATH; stdout and
 * stderr after it in `output`.
 */
export async function run(command: string, args: readonly string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<Finished> {
  const pythonPath = [TORCH_DIR, `${TORCH_DIR}tests`, `${TORCH_DIR}testing`, process.env.PYTHONPATH].filter(Boolean).join(':');
  const env = { ...process.env, PYTHONPATH: pythonPath, PYTHONDONTWRITEBYTECODE: '1', ...options.env };
  const { code, stdout, stderr } = await runProcess(command, args, { cwd: options.cwd ?? TORCH_DIR, env });
  return { code, output: stdout + stderr };
}

/** Runs the PyTorch Python with these arguments. */
export function runPython(args: readonly string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<Finished> {
  if (torchPython === undefined) throw new Error('no Python with PyTorch');
  return run(torchPython, args, options);
}
