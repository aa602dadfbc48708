/**
 * DARE's random drop (Yu et al., "Language Models are Super Mario"): each task-vector entry is
 * dropped with probability p and survivors are rescaled by 1 / (1 - p).
 *
 * The draw for an entry is a hash of (seed, model, tensor name, element index): counter-based,
 * so the result depends on the seed alone, never on chunking or on the order tensors are
 * processed in, and a preparation pass sees exactly the drops the merge will see.
 */

/** A 32-bit integer finaliser with good avalanche (Wellons' "lowbias32"). */
function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** FNV-1a over the UTF-16 code units of a name, finalised. */
function hashName(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return mix32(h);
}

/** The stream key of one (seed, model, tensor). */
export function dareStreamKey(seed: number, model: number, tensor: string): number {
  return mix32(mix32((seed >>> 0) ^ 0x9e3779b9) ^ Math.imul(model + 1, 0x85ebca6b) ^ hashName(tensor));
}

/**
 * Applies the drop to tau in place for elements [offset, offset + tau.length) of the tensor:
 * tau[j] <- keep ? tau[j] * scale : 0, with keep drawn with probability 1 - p.
 * Returns the number of entries dropped.
 */
export function applyDareDrop(tau: Float32Array | Float64Array, key: number, offset: number, p: number, rescale: boolean): number {
  if (p <= 0) return 0;
  // keep when the 32-bit draw is >= p * 2^32 (exact for p in [0, 1]).
  const cut = p * 4294967296;
  const scale = rescale ? 1 / (1 - p) : 1;
  let dropped = 0;
  for (let j = 0; j < tau.length; j++) {
    const u = mix32(mix32((offset + j) ^ key) + key);
    if (u < cut) {
      tau[j] = 0;
      dropped++;
    } else {
      tau[j] *= scale;
    }
  }
  return dropped;
}
