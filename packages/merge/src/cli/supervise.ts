/**
 * `mats merge` runs in a child process that this one watches, so that Ctrl-C and SIGTERM stop a
 * merge at once.
 *
 * Why a second process: JavaScript sees a signal only between two turns of the event loop, and a
 * merge spends long stretches in synchronous code (a PCG solve of thousands of iterations, a
 * factorisation, wasm kernels). A handler in the merging process would run only when that code
 * returns, seconds or minutes later. So the merging child keeps Node's default action for SIGINT,
 * SIGTERM and SIGHUP (the process ends at once, wherever it is), and this parent, whose event
 * loop is idle, removes the temporary output folder the child reported, says so, and exits
 * 128 + the signal's number (130 for SIGINT, 143 for SIGTERM).
 *
 * The child reports its temporary folder over the IPC channel as soon as it creates it (the
 * folder also holds an owner record, so a folder whose report was lost is removed by the next
 * merge into the same output: checkpoint/temporary-folders.ts). If this parent is killed
 * (SIGKILL), the child sees the IPC channel close and stops at its next await.
 */
import { fork } from 'node:child_process';
import { rm, stat } from 'node:fs/promises';
import { EXIT_BUG, exitCodeOfSignal, STOP_SIGNALS } from './exit-codes.js';

/** Set in the merging child's environment. */
export const CHILD_ENV = 'MATS_MERGE_CHILD';

/** What the child sends the parent. */
export interface ChildMessage {
  readonly type: 'output';
  readonly temporaryFolder: string;
}

/** Whether this invocation merges and should run supervised (not --dry-run, not --help, not already the child). */
export function wantsSupervisor(argv: readonly string[]): boolean {
  return argv[0] === 'merge' && process.env[CHILD_ENV] === undefined && !argv.some((a) => a === '--dry-run' || a === '--help' || a === '-h');
}

/** Whether this process is a supervised merging child. */
export function isSupervisedChild(): boolean {
  return process.env[CHILD_ENV] === '1' && typeof process.send === 'function';
}

/** Tells the supervising parent about a temporary output folder (no-op when not supervised). */
export function reportToSupervisor(message: ChildMessage): void {
  if (isSupervisedChild() && process.connected) process.send!(message);
}

/**
 * Runs `entry argv` (the CLI's own main module) as the merging child and waits for it. Returns
 * the exit status: the child's, or 128 + N when a signal N stopped it.
 */
export async function superviseMerge(argv: readonly string[], entry: string, stderr: NodeJS.WritableStream = process.stderr): Promise<number> {
  const child = fork(entry, [...argv], { stdio: ['inherit', 'inherit', 'inherit', 'ipc'], env: { ...process.env, [CHILD_ENV]: '1' }, execArgv: process.execArgv });
  const temporaryFolders = new Set<string>();
  child.on('message', (m: ChildMessage) => {
    if (m?.type === 'output' && typeof m.temporaryFolder === 'string') temporaryFolders.add(m.temporaryFolder);
  });
  let received: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    received ??= signal;
    // From a terminal, Ctrl-C reaches the child too; `kill PID` reaches this process only.
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  for (const s of STOP_SIGNALS) process.on(s, onSignal);
  try {
    // 'close' comes after the IPC channel is drained, so every report the child sent is in.
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (c: number | null, s: NodeJS.Signals | null) => resolve([c, s]));
    });
    if (signal === null) return code ?? EXIT_BUG;
    const removed: string[] = [];
    for (const folder of temporaryFolders) {
      // Gone already when the child had renamed it into place (killed after it finished).
      if (!(await stat(folder).then(() => true, () => false))) continue;
      await rm(folder, { recursive: true, force: true });
      removed.push(folder);
    }
    const what = removed.length > 0 ? `removed the partial output ${removed.join(', ')}; nothing was written` : 'it had left no partial output';
    // A SIGKILL nobody sent through this process is most often the kernel's out-of-memory killer.
    const cause = signal === 'SIGKILL' && received === undefined ? 'SIGKILL (out of memory?)' : signal;
    stderr.write(`error: merge interrupted by ${cause}; ${what}\n`);
    return exitCodeOfSignal(signal);
  } finally {
    for (const s of STOP_SIGNALS) process.off(s, onSignal);
  }
}
