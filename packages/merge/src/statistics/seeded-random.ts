/**
 * A seeded pseudo-random generator: xoshiro128** (Blackman and Vigna, "Scrambled linear
 * pseudorandom number generators", 2021), its 128-bit state filled from the seed by splitmix32.
 *
 * Everything random in statistics estimation (labels sampled for the "true" Fisher) and in the
 * demo workload (initialisation, shuffles) draws from here, so a run is a pure function of its
 * seeds. Math.random is never used.
 */
export class SeededRandom {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** seed: any safe integer; equal seeds give equal streams. */
  constructor(readonly seed: number) {
    if (!Number.isSafeInteger(seed)) {
      throw new RangeError(`SeededRandom: seed must be a safe integer, got ${String(seed)}`);
    }
    // Both 32-bit halves of the seed enter the state, so seeds above 2^32 stay distinct.
    const mix = splitmix32((seed >>> 0) ^ Math.imul(Math.floor(seed / 4294967296) | 0, 0x9e3779b9));
    this.s0 = mix();
    this.s1 = mix();
    this.s2 = mix();
    this.s3 = mix();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1; // the all-zero state is a fixed point
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** A uniform double in [0, 1) with 53 random bits. */
  uniform(): number {
    const high = this.nextUint32() >>> 5; // 27 bits
    const low = this.nextUint32() >>> 6; // 26 bits
    return (high * 67108864 + low) / 9007199254740992;
  }

  /** A uniform double in [low, high). */
  uniformIn(low: number, high: number): number {
    return low + (high - low) * this.uniform();
  }

  /** A uniform integer in [0, n), n a positive integer below 2^32 (rejection sampling: no modulo bias). */
  below(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 4294967296) {
      throw new RangeError(`SeededRandom.below: n must be an integer in [1, 2^32], got ${n}`);
    }
    const limit = 4294967296 - (4294967296 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /** Shuffles in place (Fisher-Yates) and returns the array. */
  shuffle<T extends { length: number; [index: number]: number }>(array: T): T {
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.below(i + 1);
      const swap = array[i];
      array[i] = array[j];
      array[j] = swap;
    }
    return array;
  }

  /** [0, n) in a random order. */
  permutation(n: number): Int32Array {
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    return this.shuffle(order);
  }

  /**
   * An independent generator for a named sub-stream (one per task, one per epoch...): its seed
   * is a hash of this generator's seed and the key, so adding a stream elsewhere shifts nothing.
   */
  derive(key: string | number): SeededRandom {
    let h = 0x811c9dc5 ^ (this.seed >>> 0) ^ Math.imul(Math.floor(this.seed / 4294967296) | 0, 0x01000193);
    const text = String(key);
    for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
    return new SeededRandom(splitmix32(h)());
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** splitmix32: a well-mixed 32-bit stream from any 32-bit state, used for seeding. */
function splitmix32(state: number): () => number {
  let s = state | 0;
  return () => {
    s = (s + 0x9e3779b9) | 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}
