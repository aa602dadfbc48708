/** Runs the built `mats` bin in a child process, as a user would (end-to-end tests). */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runProcess, type ProcessResult } from './run-process.js';

export const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'packages', 'merge', 'bin', 'mats.js');
const BUILT = join(dirname(BIN), '..', 'dist', 'cli', 'main.js');

/** Throws unless `npm run build` has made the bin's code (npm test does it first). */
export function requireBuiltBin(): void {
  if (!existsSync(BUILT)) throw new Error(`${BUILT} is missing: run npm run build first (npm test does)`);
}

export function mats(args: string[], cwd: string): Promise<ProcessResult> {
  return runProcess(process.execPath, [BIN, ...args], { cwd });
}
