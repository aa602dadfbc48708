/**
 * Reduction kernels as gpu.js kernel source. Each thread reduces one block of `block`
 * consecutive elements; the output is 2-D [blocks, 2]: row 0 holds each block's sum rounded to
 * float32 (hi), row 1 what that rounding and the float32 additions lost (lo), so hi + lo carries
 * the block sum to about twice float32's precision.
 *
 * The loss is tracked with Neumaier's compensated summation (Neumaier 1974; Higham, Accuracy
 * and Stability of Numerical Algorithms, 2nd ed., §4.3): for t = s + p the rounding error is
 * exactly (s - t) + p when |s| >= |p|, else (p - t) + s, in IEEE round-to-nearest arithmetic.
 * A shader compiler that reassociates floats would cancel it to zero; the backend probes for
 * that when it starts (see compensation-probe.ts).
 *
 * In the cpu mode the kernel runs in float64 JavaScript: s is then the float64 sum and
 * hi + lo = fround(s) + fround(c + (s - fround(s))) keeps it; in GLSL fround is the identity.
 */

/** Shared loop body: adds v into the compensated pair (s, c). */
const NEUMAIER_ADD = `const t = s + v;
      if (Math.abs(s) >= Math.abs(v)) {
        c += (s - t) + v;
      } else {
        c += (v - t) + s;
      }
      s = t;`;

const HI_LO_RETURN = `const hi = Math.fround(s);
  if (this.thread.y === 0) {
    return hi;
  }
  return c + (s - hi);`;

const INDEX = 'this.thread.x * this.constants.block + i';

/** Block sums of x .* y (dot; nrm2 with y = x). */
export const BLOCK_DOT = `function (x, y) {
  let s = 0.0;
  let c = 0.0;
  for (let i = 0; i < this.constants.block; i++) {
    if (${INDEX} < this.constants.n) {
      const v = x[${INDEX}] * y[${INDEX}];
      ${NEUMAIER_ADD}
    }
  }
  ${HI_LO_RETURN}
}`;

/** Block sums of (scale x)^2: nrm2's second pass when the plain squares over- or underflow. */
export const BLOCK_SCALED_SQUARES = `function (x, scale) {
  let s = 0.0;
  let c = 0.0;
  for (let i = 0; i < this.constants.block; i++) {
    if (${INDEX} < this.constants.n) {
      const w = scale * x[${INDEX}];
      const v = w * w;
      ${NEUMAIER_ADD}
    }
  }
  ${HI_LO_RETURN}
}`;

/** Block sums of the (hi, lo) pairs of a previous stage, read from its [n, 2] output. */
export const BLOCK_PAIRS = `function (pairs) {
  let s = 0.0;
  let c = 0.0;
  for (let i = 0; i < this.constants.block; i++) {
    if (${INDEX} < this.constants.n) {
      const v = pairs[0][${INDEX}];
      ${NEUMAIER_ADD}
      c += pairs[1][${INDEX}];
    }
  }
  ${HI_LO_RETURN}
}`;

/** Block maxima of |x| (1-D output [blocks]); also reduces its own output. */
export const BLOCK_MAX_ABS = `function (x) {
  let m = 0.0;
  for (let i = 0; i < this.constants.block; i++) {
    if (${INDEX} < this.constants.n) {
      m = Math.max(m, Math.abs(x[${INDEX}]));
    }
  }
  return m;
}`;
