/** Runs the built `mats` bin in a child process, as a user would (end-to-end tests). */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'packages', 'merge', 'bin', 'mats.js');
const BUILT = join(dirname(BIN), '..', 'dist', 'cli', 'main.js');

/** Throws unless `npm run build` has made the bin's code (npm test does it first). */
export function requireBuiltBin(): void {
  if (!existsSync(BUILT)) throw new Error(`${BUILT} is missing: run npm run build first (npm test does)`);
}

/** env: variables added to this process's (MATS_CPU_KERNELS, say). */
export function mats(args: string[], cwd: string, env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
