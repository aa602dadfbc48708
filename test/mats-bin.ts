/** Runs the built `mats` bin in a child process, as a user would (end-to-end tests). */
import { spawn, type ChildProcess } from 'node:child_process';
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

export interface RunningMats {
  readonly child: ChildProcess;
  /** stdout and stderr so far. */
  readonly output: () => string;
  /** Resolves once the output matches pattern. */
  readonly waitFor: (pattern: RegExp) => Promise<void>;
  /** Resolves at exit: the status (null when a signal ended it) and the signal. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts the bin without waiting for it, for tests that signal it. detached: in its own process
 * group, so that process.kill(-pid, signal) reaches every process of the merge (a power cut).
 */
export function startMats(args: string[], cwd: string, options: { detached?: boolean } = {}): RunningMats {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: options.detached ?? false });
  let text = '';
  const waiters: { pattern: RegExp; resolve: () => void }[] = [];
  const onData = (d: Buffer) => {
    text += d;
    for (const w of waiters.splice(0)) (w.pattern.test(text) ? w.resolve : () => waiters.push(w))();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  return {
    child,
    output: () => text,
    waitFor: (pattern) =>
      new Promise<void>((resolve, reject) => {
        if (pattern.test(text)) return resolve();
        waiters.push({ pattern, resolve });
        void exited.then(() => reject(new Error(`mats exited before printing ${pattern}:\n${text}`)));
      }),
    exited,
  };
}
