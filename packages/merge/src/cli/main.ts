#!/usr/bin/env node
/**
 * Entry point of the `mats` bin. `mats merge` runs in a child process watched by this one, so a
 * signal stops it at once (cli/supervise.ts); every other command runs here.
 */
import { fileURLToPath } from 'node:url';
import { describeFailure } from './exit-codes.js';
import { superviseMerge, wantsSupervisor } from './supervise.js';

const argv = process.argv.slice(2);
if (wantsSupervisor(argv)) {
  try {
    process.exitCode = await superviseMerge(argv, fileURLToPath(import.meta.url));
  } catch (e) {
    // The child could not be started (EAGAIN, ENOMEM): nothing was merged.
    const failure = describeFailure(e, argv.includes('--verbose'));
    process.stderr.write(failure.text);
    process.exitCode = failure.code;
  }
} else {
  const { runCli } = await import('./run-cli.js');
  process.exitCode = await runCli(argv);
}
