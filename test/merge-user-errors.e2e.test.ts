/**
 * Issue 13, case 8, through the built `mats` bin: a full disk (ENOSPC), a file over the size
 * limit (EFBIG), a folder without write permission (EACCES) and a YAML alias bomb are the user's
 * to fix: exit 1, one line naming the file and the cause, the partial output removed. Exit 2
 * stays for bugs.
 *
 * Each error comes from the real system call, not from a mock:
 *   ENOSPC: /dev/full as the --json-log file (anywhere), and for the checkpoint a 64 KiB tmpfs
 *           mounted in a private mount namespace (`unshare -m`, as root, or `unshare -rm`, an
 *           unprivileged user namespace); skipped, saying so, where neither works;
 *   EFBIG:  `ulimit -f` in the shell that starts mats (Node ignores SIGXFSZ, the write fails);
 *   EACCES: a read-only folder (as root, which bypasses permissions, mats runs as nobody
 *           through setpriv; skipped, saying so, where that is missing).
 * Needs `npm run build` first (npm test does it).
 */
import { spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSafetensorsFile } from '@mats/merge';
import { BIN, mats, requireBuiltBin } from './mats-bin.js';

let dir: string;

/** Two 1 MiB models: the output (1 MiB) does not fit in 64 KiB, nor under `ulimit -f 256`. */
beforeAll(async () => {
  requireBuiltBin();
  dir = await mkdtemp(join(tmpdir(), 'mats-user-errors-e2e-'));
  await chmod(dir, 0o755); // readable by nobody, for the EACCES case
  for (const [name, seed] of [['a', 1], ['b', 2]] as const) {
    await writeSafetensorsFile(join(dir, `${name}.safetensors`), [{ name: 'w', dtype: 'F32', shape: [512, 512], data: Float32Array.from({ length: 512 * 512 }, (_, i) => Math.sin(i + seed)) }]);
  }
  await writeFile(join(dir, 'merge.yaml'), 'method: average\nmodels: [{path: a.safetensors}, {path: b.safetensors}]\n');
});

afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

/** Runs a shell script (in cwd, default dir); returns its output. */
function shell(script: string, prefix: string[] = [], cwd = dir): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(prefix[0] ?? 'sh', [...prefix.slice(1), ...(prefix.length > 0 ? ['sh'] : []), '-c', script], { cwd, encoding: 'utf8', env: { ...process.env, MATS: `${process.execPath} ${BIN}` } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** How to get a private mount namespace here, if any (probed in /tmp: the mount vanishes with the namespace). */
function mountNamespace(): string[] | undefined {
  for (const prefix of [['unshare', '-m'], ['unshare', '-rm']]) {
    if (shell('mount -t tmpfs -o size=64k tmpfs /tmp && echo mounted', prefix, tmpdir()).stdout.includes('mounted')) return prefix;
  }
  return undefined;
}

const namespace = mountNamespace();
const isRoot = process.getuid?.() === 0;
const dropToNobody = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];
// As root, EACCES needs another user; that user must be able to read node and this checkout
// (a clone inside a 0700 folder, as `mktemp -d` makes, is private to root).
const canDropToNobody = isRoot && spawnSync(dropToNobody[0], [...dropToNobody.slice(1), process.execPath, BIN, '--version']).status === 0;
const whyNotNobody = 'skipped: running as root, and user nobody cannot run setpriv or read node and this checkout';

/** The single stderr line of a failed run, checked: exit 1, no "internal error". */
function oneError(status: number | null, stderr: string): string {
  expect(stderr).not.toMatch(/internal error|this is a bug/);
  expect(status).toBe(1);
  const lines = stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  return lines[0];
}

describe('the file system refuses a write (exit 1, one line, nothing left)', () => {
  it.skipIf(namespace === undefined)(`ENOSPC: a full disk${namespace === undefined ? ' (skipped: neither unshare -m nor unshare -rm can mount a tmpfs here)' : ''}`, () => {
    // The tmpfs exists inside the namespace only: list it there, after mats has finished.
    const r = shell('mkdir -p full && mount -t tmpfs -o size=64k tmpfs full && $MATS merge merge.yaml --quiet --out full/out; echo "status=$?"; ls -A full', namespace);
    const [, status, listing] = /status=(\d+)\n([\s\S]*)$/.exec(r.stdout)!;
    const line = oneError(Number(status), r.stderr);
    expect(line).toMatch(new RegExp(`^error: cannot write ${dir}/full/\\.out\\.partial-[0-9a-f]{8}/model\\.safetensors: no space left on the device \\(ENOSPC\\); the partial output was removed, nothing was written$`));
    expect(listing.trim()).toBe('');
  });

  it('ENOSPC on the --json-log file (/dev/full: works unprivileged everywhere)', async () => {
    const r = await mats(['merge', 'merge.yaml', '--quiet', '--out', 'logged', '--json-log', '/dev/full'], dir);
    const line = oneError(r.code, r.stderr);
    expect(line).toMatch(/^error: cannot write the --json-log file \/dev\/full: no space left on the device \(ENOSPC\)/);
    // The failed write is seen after the last tensor or before it: the checkpoint is whole and
    // the message says so, or nothing is left.
    if (line.includes('the merge itself finished')) expect((await readdir(join(dir, 'logged'))).sort()).toEqual(['model.safetensors']);
    else expect((await readdir(dir)).filter((f) => f.includes('logged'))).toEqual([]);
    await rm(join(dir, 'logged'), { recursive: true, force: true });
  });

  it('EFBIG: a file over the size limit (ulimit -f)', async () => {
    const r = shell('ulimit -f 256 && exec $MATS merge merge.yaml --quiet --out big');
    const line = oneError(r.status, r.stderr);
    expect(line).toMatch(new RegExp(`^error: cannot create ${dir}/\\.big\\.partial-[0-9a-f]{8}/model\\.safetensors: file too large .*\\(EFBIG\\); the partial output was removed, nothing was written$`));
    expect((await readdir(dir)).filter((f) => f.includes('big'))).toEqual([]);
  });

  it.skipIf(isRoot && !canDropToNobody)(`EACCES: a folder without write permission${isRoot && !canDropToNobody ? ` (${whyNotNobody})` : ''}`, async () => {
    await mkdir(join(dir, 'readonly'), { recursive: true });
    await chmod(join(dir, 'readonly'), 0o555);
    const r = shell('exec $MATS merge merge.yaml --quiet --out readonly/out', isRoot ? dropToNobody : []);
    const line = oneError(r.status, r.stderr);
    expect(line).toMatch(new RegExp(`^error: cannot create the temporary output folder ${dir}/readonly/\\.out\\.partial-[0-9a-f]{8}: permission denied \\(EACCES\\)$`));
    expect(await readdir(join(dir, 'readonly'))).toEqual([]);
  });
});

describe('a config whose YAML aliases expand without bound', () => {
  it('is the user error, one line naming the config (exit 1)', async () => {
    let text = 'a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n';
    for (let i = 1; i < 12; i++) text += `a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]\n`;
    await writeFile(join(dir, 'bomb.yaml'), `${text}method: average\nmodels: [{path: a.safetensors}]\n`);
    const r = await mats(['merge', 'bomb.yaml', '--out', 'bombed'], dir);
    expect(oneError(r.code, r.stderr)).toMatch(new RegExp(`^error: ${dir}/bomb\\.yaml: its YAML aliases \\(\\*name\\) expand into too many values`));
    expect((await readdir(dir)).filter((f) => f.includes('bombed'))).toEqual([]);
  });
});
