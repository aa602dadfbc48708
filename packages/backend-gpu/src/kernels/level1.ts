/**
 * Elementwise kernels, as gpu.js kernel source text. Text rather than functions: gpu.js parses
 * the source, and a transpiler or minifier rewriting a function (TypeScript, esbuild, vitest)
 * could hand it syntax it does not translate. Every kernel writes element this.thread.x of a
 * 1-D output; this.thread.x is an integer in GLSL, so indexing is exact at any size.
 */

/** Host array -> texture (the one upload path). */
export const UPLOAD = `function (data) {
  return data[this.thread.x];
}`;

/** x <- value everywhere. */
export const FILL = `function (value) {
  return value;
}`;

/** out <- alpha x (scal, and axpby with beta = 0, where y must not be read: NaN must not leak). */
export const SCALE = `function (alpha, x) {
  return alpha * x[this.thread.x];
}`;

/** out <- alpha x + y */
export const AXPY = `function (alpha, x, y) {
  return alpha * x[this.thread.x] + y[this.thread.x];
}`;

/** out <- alpha x + beta y */
export const AXPBY = `function (alpha, x, beta, y) {
  return alpha * x[this.thread.x] + beta * y[this.thread.x];
}`;

export const MUL = `function (x, y) {
  return x[this.thread.x] * y[this.thread.x];
}`;

export const DIV = `function (x, y) {
  return x[this.thread.x] / y[this.thread.x];
}`;

export const ADD = `function (x, y) {
  return x[this.thread.x] + y[this.thread.x];
}`;

/**
 * out <- dst with [dstOffset, dstOffset + length) replaced by src from srcOffset. The offsets
 * are integer uniforms (the kernel is built with strictIntegers), so one compiled kernel serves
 * every offset and the index arithmetic stays in integers.
 */
export const COPY_RANGE = `function (src, dst, srcOffset, dstOffset, length) {
  if (this.thread.x >= dstOffset && this.thread.x < dstOffset + length) {
    return src[this.thread.x - dstOffset + srcOffset];
  }
  return dst[this.thread.x];
}`;
