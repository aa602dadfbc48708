/** A row-major batch from any framework: a plain typed array of either precision. */
export type FloatBatch = Float32Array | Float64Array;

/**
 * Checks that a row-major batch holds whole rows of `width` values, all finite, and returns
 * the number of rows. `what` names the accumulator and argument in the error.
 */
export function countRows(batch: FloatBatch, width: number, what: string): number {
  if (!(batch instanceof Float32Array || batch instanceof Float64Array)) {
    throw new TypeError(`${what}: expected a Float32Array or Float64Array, got ${describe(batch)}`);
  }
  if (batch.length % width !== 0) {
    throw new RangeError(`${what}: ${batch.length} values are not whole rows of ${width} (row-major [rows, ${width}])`);
  }
  for (let i = 0; i < batch.length; i++) {
    if (!Number.isFinite(batch[i])) {
      const row = Math.floor(i / width);
      throw new RangeError(`${what}: value ${batch[i]} at row ${row}, column ${i - row * width} is not finite`);
    }
  }
  return batch.length / width;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object';
  return typeof value;
}
