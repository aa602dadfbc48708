/**
 * Global setup of the 'outside' test project: starts packing and installing the packages in
 * a temporary folder (once per test run, only when an outside test is selected) and returns
 * at once, so the other test files run meanwhile; the outside tests wait for its status file.
 * Teardown removes the folder.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { packAndInstall } from './install.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The temporary folder the packages are packed and installed into. */
    outsideRoot: string;
  }
}

export default function setup(project: TestProject): () => Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'mats-outside-'));
  const done = packAndInstall(root);
  project.provide('outsideRoot', root);
  return async () => {
    await done;
    rmSync(root, { recursive: true, force: true });
  };
}
