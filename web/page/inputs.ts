/**
 * What a person drops or picks, as named inputs: a `.safetensors` file, or a folder (a sharded
 * checkpoint with model.safetensors.index.json, or one with model.safetensors) with every file
 * under it. Files are never read here: the worker reads them with File.slice as the merge
 * needs them.
 */

/** A dropped file or folder. */
export interface Input {
  /** Its path among the dropped files: a file's or folder's name, made unique. */
  readonly path: string;
  readonly kind: 'file' | 'folder';
  /** [path among the dropped files, contents]; a folder's files under `path/`. */
  readonly files: readonly (readonly [string, File])[];
  /** Sum of the file sizes. */
  readonly bytes: number;
}

/** A file or folder as found, before it gets its unique name. */
interface Found {
  readonly name: string;
  readonly kind: 'file' | 'folder';
  /** Paths relative to the folder (just the name for a file). */
  readonly files: readonly (readonly [string, File])[];
}

/** Every entry of a folder, recursively (readEntries returns at most 100 at a time). */
async function readFolder(entry: FileSystemDirectoryEntry, prefix: string, out: [string, File][]): Promise<void> {
  const reader = entry.createReader();
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) return;
    for (const child of batch) {
      if (child.isDirectory) await readFolder(child as FileSystemDirectoryEntry, `${prefix}${child.name}/`, out);
      else out.push([`${prefix}${child.name}`, await new Promise<File>((resolve, reject) => (child as FileSystemFileEntry).file(resolve, reject))]);
    }
  }
}

/**
 * The files and folders of a drop. A folder needs the entries API (webkitGetAsEntry); an item
 * without an entry (a browser without it, a drop made by a script) is taken as a plain file.
 */
export async function foundInDrop(data: DataTransfer): Promise<Found[]> {
  // Take every entry before the first await: the DataTransfer is emptied once the event returns.
  const items = [...data.items].filter((item) => item.kind === 'file').map((item) => item.webkitGetAsEntry() ?? item.getAsFile());
  const found: Found[] = [];
  for (const entry of items) {
    if (entry === null) continue;
    if (entry instanceof File) {
      found.push({ name: entry.name, kind: 'file', files: [[entry.name, entry]] });
    } else if (entry.isDirectory) {
      const files: [string, File][] = [];
      await readFolder(entry as FileSystemDirectoryEntry, '', files);
      found.push({ name: entry.name, kind: 'folder', files });
    } else {
      const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
      found.push({ name: entry.name, kind: 'file', files: [[entry.name, file]] });
    }
  }
  return found;
}

/** The files of an `<input type=file>`, or the folders of one with webkitdirectory (grouped by their top folder). */
export function foundInPicker(input: HTMLInputElement): Found[] {
  const files = [...(input.files ?? [])];
  if (!input.webkitdirectory) return files.map((f) => ({ name: f.name, kind: 'file', files: [[f.name, f]] }));
  const folders = new Map<string, [string, File][]>();
  for (const f of files) {
    const [top, ...rest] = f.webkitRelativePath.split('/');
    let list = folders.get(top);
    if (list === undefined) folders.set(top, (list = []));
    list.push([rest.join('/'), f]);
  }
  return [...folders].map(([name, list]) => ({ name, kind: 'folder', files: list }));
}

/** `name`, or `name (2)`, `name (3)`, ... before the extension of a file: the first not taken. */
function uniqueName(name: string, kind: 'file' | 'folder', taken: ReadonlySet<string>): string {
  if (!taken.has(name)) return name;
  const dot = kind === 'file' ? name.lastIndexOf('.') : -1;
  const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
  for (let i = 2; ; i++) {
    const candidate = `${stem} (${i})${ext}`;
    if (!taken.has(candidate)) return candidate;
  }
}

/** Names found inputs uniquely among those already taken (two `model.safetensors` from different folders). */
export function nameInputs(found: readonly Found[], taken: Set<string>): Input[] {
  return found.map((f) => {
    const path = uniqueName(f.name, f.kind, taken);
    taken.add(path);
    const files = f.kind === 'file' ? [[path, f.files[0][1]] as const] : f.files.map(([p, file]) => [`${path}/${p}`, file] as const);
    return { path, kind: f.kind, files, bytes: files.reduce((s, [, file]) => s + file.size, 0) };
  });
}
