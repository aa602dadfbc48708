/**
 * The eigenproblem of a rank-one modification D + rho z z^T (D diagonal, ascending and
 * distinct, z without zero entries, rho > 0): the heart of the divide and conquer merge
 * (Cuppen 1981; Gu and Eisenstat, "A divide-and-conquer algorithm for the symmetric
 * tridiagonal eigenproblem", SIAM J. Matrix Anal. Appl. 16, 1995; LAPACK's dlaed3/dlaed4).
 *
 * Its eigenvalues are the roots of the secular equation
 *     f(lambda) = 1 + rho sum_i z_i^2 / (d_i - lambda) = 0,
 * one in each (d_j, d_{j+1}) and the last in (d_k, d_k + rho |z|^2). Each root is found
 * relative to the pole it is closer to (origin d_o, lambda = d_o + tau), so that the
 * differences delta_i = d_i - lambda = (d_i - d_o) - tau, which the eigenvectors are made of,
 * are accurate to a few ulps even when lambda is close to a pole. The iteration fits each
 * side's sum by one pole plus a constant through the current value and slope and solves the
 * resulting quadratic ("the middle way", R.-C. Li 1993, the idea behind dlaed4), safeguarded
 * by bisection of a bracket that always holds the root.
 *
 * The eigenvectors are then computed from a z-hat that makes the computed roots the exact
 * eigenvalues of D + rho z-hat z-hat^T (Loewner's formula, Gu and Eisenstat): they are
 * orthogonal to working precision however close the roots are.
 */

export interface SecularSolution {
  /** [k] roots, ascending. */
  values: Float64Array;
  /** [k, k] column-major: vectors[j * k + i] is component i of the unit eigenvector of root j. */
  vectors: Float64Array;
}

const EPS = 2 ** -53;

/** Roots and eigenvectors of diag(d) + rho z z^T; d ascending and distinct, rho > 0. */
export function solveSecular(d: Float64Array, z: Float64Array, rho: number): SecularSolution {
  const k = d.length;
  const values = new Float64Array(k);
  // delta[j * k + i] = d_i - lambda_j (root-major: every loop below runs along i)
  const delta = new Float64Array(k * k);
  const shifted = new Float64Array(k);
  for (let j = 0; j < k; j++) {
    const root = secularRoot(d, z, rho, j, shifted);
    values[j] = root.lambda;
    const row = j * k;
    for (let i = 0; i < k; i++) delta[row + i] = shifted[i] - root.tau;
  }
  // z-hat_i^2 rho = -prod_j (d_i - lambda_j) / prod_{j != i} (d_i - d_j), as running products
  // of ratios (each near 1 in magnitude) so that nothing over- or underflows (dlaed3).
  const w = new Float64Array(k);
  for (let i = 0; i < k; i++) w[i] = delta[i * k + i];
  for (let j = 0; j < k; j++) {
    const row = j * k;
    const dj = d[j];
    for (let i = 0; i < k; i++) if (i !== j) w[i] *= delta[row + i] / (d[i] - dj);
  }
  const zHat = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    const magnitude = Math.sqrt(Math.max(0, -w[i]));
    zHat[i] = z[i] >= 0 ? magnitude : -magnitude;
  }
  // Eigenvector j: zHat_i / (d_i - lambda_j), normalised; stored over delta's row j.
  const vectors = delta;
  for (let j = 0; j < k; j++) {
    const row = j * k;
    let norm2 = 0;
    for (let i = 0; i < k; i++) {
      const u = zHat[i] / vectors[row + i];
      vectors[row + i] = u;
      norm2 += u * u;
    }
    const inv = 1 / Math.sqrt(norm2);
    for (let i = 0; i < k; i++) vectors[row + i] *= inv;
  }
  return { values, vectors };
}

/**
 * Root j of the secular equation: lambda = d_o + tau for the origin pole o; `shifted` receives
 * d_i - d_o. The secular function is divided by rho: g(tau) = 1/rho + sum_i z_i^2 / (s_i - tau)
 * with s_i = d_i - d_o, increasing in tau between its poles.
 */
function secularRoot(d: Float64Array, z: Float64Array, rho: number, j: number, shifted: Float64Array): { lambda: number; tau: number } {
  const k = d.length;
  const last = j === k - 1;
  let norm2 = 0;
  for (let i = 0; i < k; i++) norm2 += z[i] * z[i];
  // The origin: the left pole unless the root lies in the right half of its interval.
  let origin = j;
  if (!last) {
    const half = (d[j + 1] - d[j]) / 2;
    let g = 1 / rho;
    for (let i = 0; i < k; i++) g += (z[i] * z[i]) / (d[i] - d[j] - half);
    if (g < 0) origin = j + 1;
  }
  const base = d[origin];
  for (let i = 0; i < k; i++) shifted[i] = d[i] - base;
  // Bracket (in tau) of the root, and the two poles that bound it.
  let lo: number;
  let hi: number;
  if (last) {
    lo = 0;
    // The root is at most rho |z|^2 past the last pole (equal when k = 1): a hair of room.
    hi = rho * norm2 * (1 + 8 * EPS);
  } else if (origin === j) {
    lo = 0;
    hi = shifted[j + 1] / 2;
  } else {
    lo = shifted[j] / 2;
    hi = 0;
  }
  const left = shifted[j];
  const right = last ? Infinity : shifted[j + 1];
  let tau = (lo + hi) / 2;
  let width = hi - lo;
  for (let iteration = 0; iteration < 200; iteration++) {
    // Each side's sum and slope at tau: psi over poles left of the root, phi right of it.
    let psi = 0;
    let dpsi = 0;
    let phi = 0;
    let dphi = 0;
    let magnitude = 1 / rho;
    for (let i = 0; i < k; i++) {
      const inv = 1 / (shifted[i] - tau);
      const t = z[i] * z[i] * inv;
      if (i <= j) {
        psi += t;
        dpsi += t * inv;
      } else {
        phi += t;
        dphi += t * inv;
      }
      magnitude += Math.abs(t);
    }
    const g = 1 / rho + psi + phi;
    // Rounding error of g (the bound dlaed4 uses, in spirit): a few ulps of the summed terms.
    const error = 8 * EPS * (magnitude + Math.abs(tau) * (dpsi + dphi));
    if (Math.abs(g) <= error) break;
    if (g < 0) lo = tau;
    else hi = tau;
    if (hi - lo <= 4 * EPS * Math.max(Math.abs(lo), Math.abs(hi)) || hi - lo === 0) {
      tau = g < 0 ? hi : lo;
      break;
    }
    // Model: C + s1 / (a - eta) + s2 / (b - eta) through g and its slope at tau, with the
    // nearest poles a = left - tau < 0 and b = right - tau > 0; its root eta in (a, b).
    const a = left - tau;
    const s1 = dpsi * a * a;
    let next: number;
    if (last) {
      const c = g - s1 / a;
      next = c > 0 ? tau + a + s1 / c : NaN;
    } else {
      const b = right - tau;
      const s2 = dphi * b * b;
      const c = g - s1 / a - s2 / b;
      next = tau + quadraticRootBetween(c, s1, s2, a, b);
    }
    if (!(next > lo && next < hi)) next = (lo + hi) / 2;
    // Bisect when the bracket stalls (the model is poor far from the root).
    if (iteration % 4 === 3) {
      if (hi - lo > width / 2) next = (lo + hi) / 2;
      width = hi - lo;
    }
    tau = next;
  }
  return { lambda: base + tau, tau };
}

/**
 * The root eta in (a, b), a < 0 < b, of c + s1 / (a - eta) + s2 / (b - eta) = 0 (s1, s2 >= 0:
 * increasing from -inf to +inf there, so exactly one), from
 * c eta^2 - (c (a + b) + s1 + s2) eta + (c a b + s1 b + s2 a) = 0, in the stable form.
 */
function quadraticRootBetween(c: number, s1: number, s2: number, a: number, b: number): number {
  const qa = c;
  const qb = -(c * (a + b) + s1 + s2);
  const qc = c * a * b + s1 * b + s2 * a;
  if (qa === 0) return -qc / qb;
  const disc = Math.sqrt(Math.max(0, qb * qb - 4 * qa * qc));
  const q = -0.5 * (qb + (qb >= 0 ? disc : -disc));
  const r1 = q / qa;
  const r2 = qc / q;
  if (r1 > a && r1 < b) return r1;
  return r2;
}
