// tsc writes dist/cli/main.js without the executable bit; the `mats` bin link needs it.
import { chmodSync, existsSync } from 'node:fs';

const bin = new URL('../dist/cli/main.js', import.meta.url);
if (existsSync(bin)) chmodSync(bin, 0o755);
