/**
 * InputFiles over Blob objects (in a browser: the File objects a person dropped or picked),
 * keyed by relative POSIX paths such as `base.safetensors` or `math/model-00001-of-00002.safetensors`;
 * folders are the prefixes of those paths. Tensors are read with Blob.slice, range by range, so
 * a model larger than the page's memory can be merged.
 */
import { FileAccessError, type ByteSource, type InputFiles } from './files.js';

/**
 * One read's largest slice by default (64 MiB): Blob.slice(...).arrayBuffer() makes a copy
 * before it lands in the caller's array, so a large tensor is read in pieces to bound that
 * transient copy.
 */
const SLICE_BYTES = 1 << 26;

/**
 * path with '.', '..' and empty segments resolved, as POSIX does for a relative path; '' is the
 * root. A '..' above the root is kept (`../x`): nothing is there, so opening it says so.
 */
export function normalizePath(path: string): string {
  const out: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..' && out.length > 0 && out[out.length - 1] !== '..') out.pop();
    else out.push(segment);
  }
  return out.join('/');
}

class BlobByteSource implements ByteSource {
  readonly size: number;

  constructor(
    readonly path: string,
    private readonly blob: Blob,
    private readonly sliceBytes: number,
  ) {
    this.size = blob.size;
  }

  async read(target: Uint8Array, position: number): Promise<void> {
    if (position + target.length > this.size) {
      throw new Error(`${this.path}: unexpected end of file at byte ${this.size} (the file changed while it was read?)`);
    }
    for (let done = 0; done < target.length; done += this.sliceBytes) {
      const start = position + done;
      const end = Math.min(position + target.length, start + this.sliceBytes);
      let piece: ArrayBuffer;
      try {
        piece = await this.blob.slice(start, end).arrayBuffer();
      } catch (e) {
        // A browser refuses to read a File that changed on disk after it was chosen (NotReadableError).
        throw new Error(`${this.path}: cannot read bytes [${start}, ${end}) (${(e as Error).message}; the file changed since it was chosen?)`, { cause: e });
      }
      target.set(new Uint8Array(piece), done);
    }
  }

  async close(): Promise<void> {}
}

export class BlobInputFiles implements InputFiles {
  private readonly files = new Map<string, Blob>();
  private readonly sliceBytes: number;

  /**
   * entries: [relative path, contents]; a folder's files carry the folder's name first
   * (`math/model.safetensors`). sliceBytes: the largest piece one read copies at a time.
   */
  constructor(entries: Iterable<readonly [string, Blob]>, options: { sliceBytes?: number } = {}) {
    this.sliceBytes = Math.max(1, Math.floor(options.sliceBytes ?? SLICE_BYTES));
    for (const [path, blob] of entries) {
      const key = normalizePath(path);
      if (key === '') throw new Error(`BlobInputFiles: ${JSON.stringify(path)} is not a file path`);
      if (this.files.has(key)) throw new Error(`BlobInputFiles: two files at ${key}`);
      this.files.set(key, blob);
    }
  }

  /** Every file's path. */
  paths(): string[] {
    return [...this.files.keys()];
  }

  resolve(baseDir: string, path: string): string {
    return normalizePath(path.startsWith('/') ? path : `${baseDir}/${path}`);
  }

  dirname(path: string): string {
    const key = normalizePath(path);
    const slash = key.lastIndexOf('/');
    return slash < 0 ? '' : key.slice(0, slash);
  }

  /** A path from the root: '/base'. The dropped files' own paths are all relative to it. */
  isAbsolute(path: string): boolean {
    return path.startsWith('/');
  }

  relative(from: string, to: string): string {
    const [a, b] = [normalizePath(from).split('/').filter((x) => x !== ''), normalizePath(to).split('/').filter((x) => x !== '')];
    let common = 0;
    while (common < a.length && common < b.length && a[common] === b[common]) common++;
    return [...a.slice(common).map(() => '..'), ...b.slice(common)].join('/');
  }

  join(folder: string, name: string): string {
    return normalizePath(`${folder}/${name}`);
  }

  async kind(path: string): Promise<'file' | 'folder'> {
    const key = normalizePath(path);
    if (this.files.has(key)) return 'file';
    if (this.isFolder(key)) return 'folder';
    throw new FileAccessError(path, 'ENOENT');
  }

  async list(folder: string): Promise<string[]> {
    const key = normalizePath(folder);
    if (!this.isFolder(key)) throw new FileAccessError(folder, this.files.has(key) ? 'ENOTDIR' : 'ENOENT');
    const prefix = key === '' ? '' : `${key}/`;
    const names = new Set<string>();
    for (const p of this.files.keys()) if (p.startsWith(prefix)) names.add(p.slice(prefix.length).split('/')[0]);
    return [...names];
  }

  async readText(path: string): Promise<string> {
    return this.blobAt(path).text();
  }

  async open(path: string): Promise<ByteSource> {
    return new BlobByteSource(path, this.blobAt(path), this.sliceBytes);
  }

  private blobAt(path: string): Blob {
    const key = normalizePath(path);
    const blob = this.files.get(key);
    if (blob === undefined) throw new FileAccessError(path, this.isFolder(key) ? 'EISDIR' : 'ENOENT');
    return blob;
  }

  private isFolder(key: string): boolean {
    if (key === '') return this.files.size > 0;
    const prefix = `${key}/`;
    for (const p of this.files.keys()) if (p.startsWith(prefix)) return true;
    return false;
  }
}
