/**
 * A first-fit allocator over the byte range of the kernel memory above its control words.
 *
 * Everything the WebAssembly kernels read or write lives in one shared memory: the packed
 * operands of a gemm (freed when it returns), the matrices of a factorization (freed when it
 * returns) and the packed factors of a prepared K-FAC operator (kept until it is disposed).
 * Allocations are few and large, so a sorted list of free ranges, merged on free, is enough.
 * WebAssembly memory grows but never shrinks: `grow` is called when no free range fits, and
 * the top of the memory joins the free list.
 */
export class MemoryAllocator {
  /** Free ranges [start, end), sorted by start, never adjacent (merged on free). */
  private readonly free: { start: number; end: number }[] = [];
  private readonly sizes = new Map<number, number>();
  private top: number;

  constructor(
    /** First byte the allocator may hand out. */
    base: number,
    /** Grows the memory so that it holds at least `bytes` bytes; throws when it cannot. */
    private readonly grow: (bytes: number) => void,
    /** Largest address + 1 the memory can ever reach. */
    private readonly limit: number,
  ) {
    this.top = base;
  }

  /** Bytes in use (allocated and not freed). */
  get inUse(): number {
    let s = 0;
    for (const v of this.sizes.values()) s += v;
    return s;
  }

  /**
   * The address of `bytes` fresh bytes, aligned to 64 (a cache line, and every SIMD width).
   * Throws a RangeError when the memory cannot hold them.
   */
  alloc(bytes: number): number {
    const size = Math.max(64, Math.ceil(bytes / 64) * 64);
    for (let i = 0; i < this.free.length; i++) {
      const r = this.free[i];
      if (r.end - r.start >= size) {
        const address = r.start;
        r.start += size;
        if (r.start === r.end) this.free.splice(i, 1);
        this.sizes.set(address, size);
        return address;
      }
    }
    // Nothing fits: take the top of the memory (joined with a free range that ends there).
    const last = this.free[this.free.length - 1];
    const start = last !== undefined && last.end === this.top ? last.start : this.top;
    if (start + size > this.limit) {
      throw new RangeError(`kernel memory: ${size} more bytes do not fit the ${this.limit} a WebAssembly memory can address`);
    }
    this.grow(start + size);
    if (start !== this.top) this.free.pop();
    this.top = start + size;
    this.sizes.set(start, size);
    return start;
  }

  /** Returns an allocation to the free list. Freeing an unknown address throws. */
  release(address: number): void {
    const size = this.sizes.get(address);
    if (size === undefined) throw new Error(`kernel memory: ${address} is not an allocated address`);
    this.sizes.delete(address);
    const range = { start: address, end: address + size };
    let i = 0;
    while (i < this.free.length && this.free[i].start < range.start) i++;
    this.free.splice(i, 0, range);
    // Merge with the neighbours.
    const next = this.free[i + 1];
    if (next !== undefined && next.start === range.end) {
      range.end = next.end;
      this.free.splice(i + 1, 1);
    }
    const prev = this.free[i - 1];
    if (prev !== undefined && prev.end === range.start) {
      prev.end = range.end;
      this.free.splice(i, 1);
    }
  }
}
