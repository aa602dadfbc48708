#!/usr/bin/env node
// The `mats` bin. A committed file (not dist/) so that npm links it at install time, before
// the first build; it runs the compiled CLI.
try {
  await import('../dist/cli/main.js');
} catch (e) {
  if (e?.code === 'ERR_MODULE_NOT_FOUND' && String(e.message).includes('dist/cli/main.js')) {
    process.stderr.write('error: @mats/merge is not built yet: run npm run build first\n');
    process.exitCode = 1;
  } else {
    throw e;
  }
}
