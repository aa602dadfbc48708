import type { Shape } from './backend.js';
import { ShapeError } from './errors.js';

/** Number of elements of a shape; validates that every dimension is a non-negative integer. */
export function shapeSize(shape: Shape): number {
  let size = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new ShapeError(`invalid shape ${formatShape(shape)}: dimensions must be integers >= 0`);
    }
    size *= d;
  }
  return size;
}

export function formatShape(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
