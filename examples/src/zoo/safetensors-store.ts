import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { SafetensorsFile, writeSafetensorsFile } from '@mats/merge';
import type { NamedArray } from '../mlp/mlp.js';
import type { CheckpointStore, StoredTensors } from './checkpoint-store.js';

/**
 * The zoo's files: one `<name>.safetensors` per model or statistics set in a folder, read and
 * written with @mats/merge's reader and writer (the files `mats merge` then reads). Tensors are
 * float32 (F32); a file is written under a temporary name and renamed when complete.
 */
export class SafetensorsStore implements CheckpointStore {
  constructor(readonly folder: string) {}

  pathOf(name: string): string {
    return join(this.folder, `${name}.safetensors`);
  }

  async load(name: string): Promise<StoredTensors | undefined> {
    const path = this.pathOf(name);
    if (!existsSync(path)) return undefined;
    return readSafetensors(path);
  }

  async save(name: string, stored: StoredTensors): Promise<void> {
    await mkdir(this.folder, { recursive: true });
    const path = this.pathOf(name);
    const partial = `${path}.partial`;
    const tensors = [...stored.tensors].map(([tensorName, t]) => ({ name: tensorName, dtype: 'F32' as const, shape: t.shape, data: t.data }));
    try {
      await writeSafetensorsFile(partial, tensors, stored.metadata);
      await rename(partial, path);
    } catch (e) {
      await rm(partial, { force: true });
      throw e;
    }
  }
}

/** Every tensor of a safetensors file as float64, with the metadata. */
export async function readSafetensors(path: string): Promise<StoredTensors> {
  const file = await SafetensorsFile.open(path);
  try {
    const tensors = new Map<string, NamedArray>();
    for (const info of file.tensors) tensors.set(info.name, { shape: info.shape, data: await file.readFloats(info.name, 'float64') });
    return { tensors, metadata: file.metadata };
  } finally {
    await file.close();
  }
}
