/** What the outside tests share: waiting for the install, and running tools in it. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inject } from 'vitest';
import { REPO, run, statusFile, type InstallStatus } from './install.js';

export { REPO, run } from './install.js';

/** Waits for the global setup's pack and install; throws its error if it failed. */
export async function installed(): Promise<InstallStatus> {
  const root = inject('outsideRoot');
  const file = statusFile(root);
  while (!existsSync(file)) await new Promise((r) => setTimeout(r, 250));
  const status = JSON.parse(readFileSync(file, 'utf8')) as InstallStatus;
  if (!status.ok) throw new Error(`packing and installing the packages failed: ${status.error}`);
  return status;
}

/** The repository's TypeScript compiler (the compiler only: modules resolve from the project compiled). */
export const TSC = join(REPO, 'node_modules', '.bin', 'tsc');

/** Compiler options as strict as common settings get: declarations must hold under them too. */
export const STRICTEST = {
  strict: true,
  exactOptionalPropertyTypes: true,
  noUncheckedIndexedAccess: true,
  noImplicitOverride: true,
  noImplicitReturns: true,
  noFallthroughCasesInSwitch: true,
  noPropertyAccessFromIndexSignature: true,
  skipLibCheck: false,
  noEmit: true,
  target: 'ES2022',
  lib: ['ES2023', 'DOM'],
  types: ['node'],
} as const;

/** Runs tsc on a project file; resolves with its output, rejects when it reports errors. */
export async function typecheck(project: string, cwd: string): Promise<void> {
  const r = await run(TSC, ['-p', project], cwd);
  if (r.code !== 0) throw new Error(`tsc -p ${project} failed:\n${r.stdout}${r.stderr}`);
}
