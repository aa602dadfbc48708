/**
 * The temporary output folders of merges (`.NAME.partial-XXXXXXXX` beside the output NAME), and
 * which of them are stale: left behind by a merge that was killed (SIGKILL, out of memory, a
 * power cut) and that no later run would otherwise remove, although each is as large as the
 * model.
 *
 * Each merge writes an owner record into its folder as soon as it creates it: pid, host, and on
 * Linux the boot id and the process's start time. A folder is stale when its owner is certainly
 * gone: same host, and either another boot, or no process with that pid, or a process with that
 * pid that started at another time (the pid was reused). A folder whose owner runs is another
 * merge writing the same output. A folder without a record, or from another host (a shared file
 * system), cannot be judged: it is named, never removed.
 */
import { readFileSync } from 'node:fs';
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { formatBytes } from '../util/format.js';

/** The owner record inside a temporary folder; removed just before the folder is renamed into place. */
export const OWNER_FILE = '.mats-merge-owner.json';

export interface FolderOwner {
  readonly pid: number;
  readonly host: string;
  /** /proc/sys/kernel/random/boot_id, on Linux. */
  readonly bootId?: string;
  /** Field 22 of /proc/PID/stat (clock ticks after boot), on Linux. */
  readonly startTicks?: string;
  /** ISO time the merge started. */
  readonly started: string;
}

export type FolderState =
  /** Its merge is gone: safe to remove. */
  | 'stale'
  /** Its merge is running (on this host). */
  | 'running'
  /** No owner record, or another host: cannot be judged. */
  | 'unknown';

export interface TemporaryFolder {
  readonly path: string;
  readonly state: FolderState;
  readonly owner?: FolderOwner;
  /** Bytes of its files (apparent size). */
  readonly bytes: number;
  /** Why it has its state, for messages. */
  readonly reason: string;
}

/** `.NAME.partial-` for output NAME: the prefix of its temporary folders. */
export function temporaryPrefix(target: string): string {
  return `.${basename(target)}.partial-`;
}

function readProc(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Fields 3 onwards of /proc/PID/stat (Linux), or undefined. */
function statFields(pid: number): string[] | undefined {
  const stat = readProc(`/proc/${pid}/stat`);
  // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
  return stat?.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** The start time of process pid in clock ticks after boot (Linux), or undefined. */
const startTicks = (pid: number): string | undefined => statFields(pid)?.[19];

const bootId = () => readProc('/proc/sys/kernel/random/boot_id')?.trim();

/** The record of this process. */
export function currentOwner(): FolderOwner {
  return { pid: process.pid, host: hostname(), bootId: bootId(), startTicks: startTicks(process.pid), started: new Date().toISOString() };
}

export async function writeOwner(folder: string): Promise<void> {
  await writeFile(join(folder, OWNER_FILE), `${JSON.stringify(currentOwner())}\n`);
}

function isOwner(v: unknown): v is FolderOwner {
  const o = v as FolderOwner;
  return typeof o === 'object' && o !== null && Number.isSafeInteger(o.pid) && o.pid > 0 && typeof o.host === 'string' && typeof o.started === 'string';
}

function alive(pid: number): boolean {
  // A killed merge stays a zombie until its new parent reaps it, and kill(pid, 0) still finds it.
  const state = statFields(pid)?.[0];
  if (state === 'Z' || state === 'X') return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: a process of another user holds the pid.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Judges a folder from its owner record. */
export function judge(owner: FolderOwner | undefined): { state: FolderState; reason: string } {
  if (owner === undefined) return { state: 'unknown', reason: 'it has no owner record (written by an older mats, or killed as it was created)' };
  const who = `pid ${owner.pid} on ${owner.host}, started ${owner.started}`;
  if (owner.host !== hostname()) return { state: 'unknown', reason: `its merge (${who}) ran on another host, which cannot be checked from here` };
  const boot = bootId();
  if (owner.bootId !== undefined && boot !== undefined && owner.bootId !== boot) return { state: 'stale', reason: `its merge (${who}) ran before the last reboot` };
  if (owner.pid === process.pid) return { state: 'running', reason: `this process (${who}) is writing it` };
  if (!alive(owner.pid)) return { state: 'stale', reason: `its merge (${who}) is no longer running` };
  const ticks = startTicks(owner.pid);
  if (owner.startTicks !== undefined && ticks !== undefined && ticks !== owner.startTicks) return { state: 'stale', reason: `its merge (${who}) is no longer running (the pid now belongs to another process)` };
  return { state: 'running', reason: `its merge (${who}) is still running` };
}

async function folderBytes(folder: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(folder, { withFileTypes: true }).catch(() => [])) {
    if (entry.isFile()) total += await stat(join(folder, entry.name)).then((s) => s.size, () => 0);
  }
  return total;
}

async function readOwner(folder: string): Promise<FolderOwner | undefined> {
  try {
    const record: unknown = JSON.parse(await readFile(join(folder, OWNER_FILE), 'utf8'));
    return isOwner(record) ? record : undefined;
  } catch {
    return undefined;
  }
}

/** The temporary folders of output target that exist now, judged. */
export async function findTemporaryFolders(target: string): Promise<TemporaryFolder[]> {
  const parent = dirname(target);
  const prefix = temporaryPrefix(target);
  let entries: string[];
  try {
    entries = (await readdir(parent)).filter((e) => e.startsWith(prefix)).sort();
  } catch {
    return []; // no parent folder yet: nothing left behind
  }
  const found: TemporaryFolder[] = [];
  for (const name of entries) {
    const path = join(parent, name);
    if (!(await stat(path).then((s) => s.isDirectory(), () => false))) continue;
    const owner = await readOwner(path);
    found.push({ path, owner, bytes: await folderBytes(path), ...judge(owner) });
  }
  return found;
}

/** Removes a stale folder, after judging it again (its state may have changed since it was found). */
export async function removeIfStale(folder: TemporaryFolder): Promise<boolean> {
  const { state } = judge(await readOwner(folder.path));
  if (state !== 'stale') return false;
  await rm(folder.path, { recursive: true, force: true });
  return true;
}

/** The line a merge, --dry-run and validate print about a temporary folder it found. */
export function describeTemporaryFolder(folder: TemporaryFolder): string {
  const what = `temporary folder ${folder.path} (${formatBytes(folder.bytes)}) left by an earlier merge`;
  if (folder.state === 'stale') return `${what}: ${folder.reason}; mats merge removes it before writing`;
  return `warning: ${what}: ${folder.reason}; if no merge is writing it, remove it: rm -r '${folder.path}'`;
}
