import type { CpuBackend } from '@mats/backend-cpu';
import { Checkpoint } from '@mats/merge';
import { Mlp, type NamedArray } from '../mlp/mlp.js';

/**
 * A merged checkpoint (a .safetensors file, or a folder as `mats merge` writes it, sharded or
 * not) read through @mats/merge's reader, as an MLP ready to evaluate.
 */
export async function loadMergedCheckpoint(backend: CpuBackend, path: string): Promise<Mlp> {
  const checkpoint = await Checkpoint.open(path);
  try {
    const tensors = new Map<string, NamedArray>();
    for (const name of checkpoint.names()) {
      tensors.set(name, { shape: checkpoint.get(name)!.shape, data: await checkpoint.readFloats(name, 'float64') });
    }
    return Mlp.fromNamedArrays(backend, tensors, path);
  } finally {
    await checkpoint.close();
  }
}
