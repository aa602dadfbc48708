/**
 * An OutputTarget on the Origin Private File System: each shard is written in place by
 * positioned writes through a FileSystemSyncAccessHandle (dedicated workers only), so the
 * output never has to fit in memory; the page downloads the files as disk-backed File objects.
 *
 * Limits: the origin's storage quota (Chromium grants a share of the free disk), one output at a
 * time (the next merge removes the previous one), and the files stay in the browser's storage,
 * not in a folder of the user's, until downloaded.
 */
import { UserError, type ByteSink, type OutputFolder, type OutputSurvey, type OutputTarget } from '@mats/merge/browser';
import { OPFS_FOLDER } from '../shared/protocol.js';

/** A shard open for positioned writes. */
class OpfsFileSink implements ByteSink {
  private open = true;

  constructor(
    readonly path: string,
    private readonly access: FileSystemSyncAccessHandle,
  ) {}

  async write(bytes: Uint8Array, position: number): Promise<void> {
    let done = 0;
    while (done < bytes.length) {
      let written: number;
      try {
        written = this.access.write(bytes.subarray(done), { at: position + done });
      } catch (e) {
        if ((e as DOMException).name === 'QuotaExceededError') {
          throw new UserError(`output ${this.path}: the browser refused more disk space for this site (${(e as Error).message}); free disk space, or keep the output in memory`);
        }
        throw e;
      }
      if (written <= 0) throw new Error(`output ${this.path}: wrote nothing at byte ${position + done}`);
      done += written;
    }
  }

  async close(): Promise<void> {
    this.access.flush();
    this.access.close();
    this.open = false;
  }

  async abort(): Promise<void> {
    if (this.open) this.access.close();
    this.open = false;
  }
}

class OpfsOutputFolder implements OutputFolder {
  private readonly sinks: OpfsFileSink[] = [];
  private state: 'open' | 'committed' | 'aborted' = 'open';

  constructor(
    readonly path: string,
    /** The folder's name inside OPFS_FOLDER. */
    private readonly id: string,
    private readonly parent: FileSystemDirectoryHandle,
    readonly folder: FileSystemDirectoryHandle,
  ) {}

  async createFile(name: string, size: number): Promise<ByteSink> {
    const handle = await this.folder.getFileHandle(name, { create: true });
    const access = await handle.createSyncAccessHandle();
    try {
      access.truncate(size);
    } catch (e) {
      access.close();
      if ((e as DOMException).name === 'QuotaExceededError') {
        throw new UserError(`output ${this.path}/${name}: the browser refused ${size} bytes of disk space for this site (${(e as Error).message}); free disk space, or keep the output in memory`);
      }
      throw e;
    }
    const sink = new OpfsFileSink(`${this.path}/${name}`, access);
    this.sinks.push(sink);
    return sink;
  }

  async commit(): Promise<void> {
    this.state = 'committed';
  }

  async abort(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'aborted';
    for (const sink of this.sinks) await sink.abort();
    await this.parent.removeEntry(this.id, { recursive: true });
  }

  /** The committed files, as disk-backed File objects, in name order. */
  async files(): Promise<{ name: string; file: File }[]> {
    if (this.state !== 'committed') throw new Error(`output ${this.path}: not committed`);
    const out: { name: string; file: File }[] = [];
    for await (const [name, handle] of this.folder.entries()) {
      if (handle.kind === 'file') out.push({ name, file: await (handle as FileSystemFileHandle).getFile() });
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}

export class OpfsOutputTarget implements OutputTarget {
  /** The folder of the last create(). */
  last: OpfsOutputFolder | undefined;

  private constructor(private readonly root: FileSystemDirectoryHandle) {}

  /**
   * The page's OPFS folder, emptied of earlier outputs (a merge keeps one at a time; an output
   * another tab is still writing is busy and stays), or why this browser cannot write there (no
   * OPFS, no sync access handles, a private window).
   */
  static async open(): Promise<OpfsOutputTarget | { problem: string }> {
    if (typeof FileSystemSyncAccessHandle === 'undefined' || typeof navigator.storage?.getDirectory !== 'function') {
      return { problem: 'this browser has no Origin Private File System with sync access handles' };
    }
    try {
      const origin = await navigator.storage.getDirectory();
      const root = await origin.getDirectoryHandle(OPFS_FOLDER, { create: true });
      for await (const name of root.keys()) await root.removeEntry(name, { recursive: true }).catch(() => undefined);
      return new OpfsOutputTarget(root);
    } catch (e) {
      return { problem: `the Origin Private File System is not available here (${(e as Error).message})` };
    }
  }

  async exists(): Promise<boolean> {
    // Every output gets a fresh folder: there is never anything to replace.
    return false;
  }

  async survey(): Promise<OutputSurvey> {
    // Inputs are dropped files, never in OPFS; open() removed what earlier merges left.
    return { overlaps: [], temporaryFolders: [], shardFolders: [] };
  }

  async removeStale(): Promise<boolean> {
    return false;
  }

  async create(path: string): Promise<OutputFolder> {
    // Unique across tabs: another tab's merge may be writing beside this one.
    const id = `output-${Date.now()}-${Math.random().toString(36).slice(2, 10)}`;
    const folder = await this.root.getDirectoryHandle(id, { create: true });
    this.last = new OpfsOutputFolder(path, id, this.root, folder);
    return this.last;
  }
}
