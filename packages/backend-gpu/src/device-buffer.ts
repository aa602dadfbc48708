/**
 * What a tensor's storage holds: a gpu.js texture in the GL modes (pipeline output, kept on
 * the device), a Float32Array in the cpu and webasm modes (gpu.js' "pipeline" there is a host
 * array). Textures are immutable: every kernel writes a fresh output (or one gpu.js proves
 * unreferenced), so two tensors may share one texture by reference count (copy is O(1)).
 */
import { Texture } from 'gpu.js';

export type DeviceBuffer = Texture | Float32Array;

export function isTexture(buffer: DeviceBuffer): buffer is Texture {
  return buffer instanceof Texture;
}

/**
 * A key for the layout a kernel was compiled against. gpu.js bakes each texture argument's
 * size and dimensions into the shader and does not check them on later calls, so a kernel
 * may only ever see buffers of the layout it was built for. Flat indexing reads a 2-D texture
 * (gemm's output) the same way as a 1-D one, but the texture classes differ.
 */
export function layoutKey(buffer: DeviceBuffer): string {
  if (!isTexture(buffer)) return `a${buffer.length}`;
  const t = buffer as unknown as { output: readonly number[]; constructor: { name: string } };
  return `${t.constructor.name}[${t.output.join('x')}]`;
}

/** A host Float32Array of the first `size` elements, in flat row-major order. */
export function readBuffer(buffer: DeviceBuffer, size: number): Float32Array {
  if (!isTexture(buffer)) return buffer.slice(0, size);
  return flattenOutput(buffer.toArray() as Float32Array | readonly Float32Array[], size);
}

/** Flattens a gpu.js kernel output (a Float32Array, or rows of one for 2-D outputs). */
export function flattenOutput(output: unknown, size: number): Float32Array {
  if (output instanceof Float32Array) return output.length === size ? output : output.slice(0, size);
  const rows = output as readonly ArrayLike<number>[];
  const flat = new Float32Array(size);
  let offset = 0;
  for (const row of rows) {
    const take = Math.min(row.length, size - offset);
    if (take <= 0) break;
    flat.set(take === row.length ? row : Array.prototype.slice.call(row, 0, take), offset);
    offset += take;
  }
  if (offset !== size) throw new Error(`gpu backend: kernel output holds ${offset} values, expected ${size}`);
  return flat;
}

/** Another reference to the same contents (a texture clone counts a reference). */
export function shareBuffer(buffer: DeviceBuffer): DeviceBuffer {
  return isTexture(buffer) ? buffer.clone() : buffer;
}

/** Drops this reference; gpu.js frees a texture when its last reference goes. */
export function releaseBuffer(buffer: DeviceBuffer): void {
  if (isTexture(buffer)) buffer.delete();
}
