/**
 * V8 specialises a function's property and element loads on the array types it has seen. A
 * kernel fed both Float64Array and Float32Array turns polymorphic and loses up to half its
 * speed, so each dtype gets its own copy of every kernel: the same source, compiled as a
 * separate function with its own type feedback.
 *
 * The kernels this is applied to must be self-contained: no reference to any module-level
 * name, since the copy is compiled outside this module's scope.
 */
export function monomorphicCopy<F extends (...args: never[]) => unknown>(kernel: F): F {
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  return new Function(`"use strict"; return (${kernel.toString()});`)() as F;
}
