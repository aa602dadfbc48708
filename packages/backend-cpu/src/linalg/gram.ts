/**
 * The Gram matrix G [m, m], G[i, j] = <v_i, v_j>, of m equal-length host vectors on the
 * WebAssembly kernels (assembly/gram.ts), on every core: the vectors are copied into the
 * kernel memory slab by slab, stacked as the rows of V [m, slab]; threads claim chunks of
 * columns small enough that the m rows of a chunk stay in cache, so each vector is read from
 * memory once (m (m + 1) / 2 separate dot products would read each one m times). The slab is
 * small and reused: it stays in cache, and its pages stay mapped (first touches of freshly
 * grown kernel memory cost about 5 ns a byte on the bench machine, more than the Gram itself).
 */
import type { KernelLinalg } from './kernel-linalg.js';

/** Bytes of one chunk's m rows: about half the L2 cache of a core. */
const CHUNK_BYTES = 256 * 1024;
/** Bytes of the stacked slab in the kernel memory (a few chunks per thread). */
const SLAB_BYTES = 2 ** 20;
/** Multiply-adds below which the Gram stays on the calling thread (a hand-off costs ~13 us). */
const THREAD_MIN_WORK = 1 << 20;

export function kernelGram(la: KernelLinalg, vectors: readonly ArrayLike<number>[], length: number): Float64Array {
  const m = vectors.length;
  const gram = new Float64Array(m * m);
  if (m === 0 || length === 0) return gram;
  const s = la.s;
  // Chunks a multiple of 8 elements (whole SIMD steps), slabs a multiple of chunks.
  const chunk = Math.max(64, Math.floor(CHUNK_BYTES / (m * s) / 8) * 8);
  const slab = Math.min(length, Math.max(chunk, Math.floor(SLAB_BYTES / (m * s * chunk)) * chunk));
  const chunksPerSlab = Math.ceil(slab / chunk);
  const v = la.alloc(m * slab);
  const partials = la.alloc(chunksPerSlab * m * m);
  try {
    const threads = (m * (m + 1) * length) / 2 >= THREAD_MIN_WORK ? la.threads : 1;
    for (let c0 = 0; c0 < length; c0 += slab) {
      const width = Math.min(slab, length - c0);
      let view = la.view();
      for (let i = 0; i < m; i++) {
        const x = vectors[i];
        // A typed array copies as one block; anything else element by element.
        if (ArrayBuffer.isView(x)) view.set((x as Float64Array).subarray(c0, c0 + width), v / s + i * slab);
        else for (let j = 0; j < width; j++) view[v / s + i * slab + j] = x[c0 + j];
      }
      la.gramChunks(m, width, v, slab, chunk, partials, threads);
      view = la.view();
      // Chunk partials in chunk order: the sum does not depend on the thread count.
      const chunks = Math.ceil(width / chunk);
      for (let c = 0; c < chunks; c++) {
        const p = partials / s + c * m * m;
        for (let i = 0; i < m; i++) for (let j = 0; j <= i; j++) gram[i * m + j] += view[p + i * m + j];
      }
    }
    for (let i = 0; i < m; i++) for (let j = 0; j < i; j++) gram[j * m + i] = gram[i * m + j];
    return gram;
  } finally {
    la.free(partials);
    la.free(v);
  }
}
