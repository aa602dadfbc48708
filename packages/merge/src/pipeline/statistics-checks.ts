/**
 * Checks of statistics files (DESIGN.md §6), all before any output is written:
 *   - from the headers: every key is `<param>::<kind>` with a known kind, names a tensor of the
 *     reference, and has the shape its kind needs for that tensor (fisher: the tensor's shape;
 *     input_gram [in, in] and grad_gram [out, out] of a 2-D [out, in] weight; fisher_block
 *     [d, d] of a 1-D parameter); metadata n_examples, when present, is a positive integer;
 *   - from the values of every statistic the method will use: finite (pipeline/nonfinite.ts's rule:
 *     a problem, or a warning under --allow-nonfinite); a diagonal Fisher has no
 *     negative entry; a Gram or Fisher block is symmetric and has no negative diagonal entry
 *     (both hold for any positive semi-definite matrix; a full PSD check would cost a
 *     factorization per matrix, which the solve pays later anyway).
 *
 * Symmetry is checked to a tolerance, |M[i, j] - M[j, i]| <= tau * max |M|, with
 * tau = max(1e-4, 4 u) for the file's dtype (u its unit roundoff): a Gram accumulated in float32
 * by a non-symmetric kernel is symmetric to a few ulps times sqrt(T) for T tokens, far below
 * 1e-4, while a wrong matrix (another layout, another tensor's statistic) is off by O(1).
 * The methods then symmetrise what they read (methods/statistic-factors.ts).
 */
import type { Checkpoint } from '../checkpoint/checkpoint.js';
import type { StatisticKind } from '../methods/method.js';
import type { SafetensorsDType } from '../safetensors/dtype.js';
import { didYouMean } from '../util/did-you-mean.js';
import { formatIndex, formatShape } from '../util/format.js';
import { ALLOW_HINT, firstNonFinite, type NonFinitePolicy } from './nonfinite.js';
import type { TensorSource } from './sources.js';

export const STATISTIC_KINDS: readonly StatisticKind[] = ['fisher', 'input_gram', 'grad_gram', 'fisher_block'];

/** Where problems go: one line, or an item of a group "<subject> (N): a, b, ...". */
export interface ProblemSink {
  add(line: string): void;
  group(subject: string, item: string): void;
}

/** `<param>::<kind>` split at the last `::`, or undefined when the key has none. */
export function parseStatisticKey(key: string): { param: string; kind: string } | undefined {
  const at = key.lastIndexOf('::');
  return at <= 0 ? undefined : { param: key.slice(0, at), kind: key.slice(at + 2) };
}

/** The shape statistic `kind` must have for a parameter of `shape`, or why it cannot have one. */
export function statisticShape(kind: StatisticKind, shape: readonly number[]): readonly number[] | string {
  switch (kind) {
    case 'fisher':
      return shape;
    case 'input_gram':
      return shape.length === 2 ? [shape[1], shape[1]] : `input_gram is for 2-D [out, in] weights, the tensor is ${formatShape(shape)}`;
    case 'grad_gram':
      return shape.length === 2 ? [shape[0], shape[0]] : `grad_gram is for 2-D [out, in] weights, the tensor is ${formatShape(shape)}`;
    case 'fisher_block':
      return shape.length === 1 ? [shape[0], shape[0]] : `fisher_block is for 1-D parameters, the tensor is ${formatShape(shape)}`;
  }
}

const isKind = (kind: string): kind is StatisticKind => (STATISTIC_KINDS as readonly string[]).includes(kind);

/**
 * Checks every key of one statistics file against the tensors it may describe (name -> shape,
 * the reference's names and the names this model stores them under). Returns the keys at fault,
 * which the caller must not use.
 */
export function checkStatisticsHeaders(file: Checkpoint, role: string, tensorShapes: ReadonlyMap<string, readonly number[]>, problems: ProblemSink): Set<string> {
  const bad = new Set<string>();
  const where = `${role} (${file.path})`;
  // "did you mean" compares with every tensor name: only for the first few unknown names.
  let suggestions = 5;
  const suggest = (param: string) => (suggestions-- > 0 ? didYouMean(param, [...tensorShapes.keys()]) : '');
  const fault = (subject: string, key: string, item = key) => {
    bad.add(key);
    problems.group(`${where}: ${subject}`, item);
  };
  for (const key of file.names()) {
    const parsed = parseStatisticKey(key);
    if (parsed === undefined) {
      fault("keys that are not '<tensor>::<kind>'", key);
      continue;
    }
    if (!isKind(parsed.kind)) {
      fault(`unknown statistic kinds (known: ${STATISTIC_KINDS.join(', ')})`, key, `${key}${didYouMean(parsed.kind, STATISTIC_KINDS)}`);
      continue;
    }
    const shape = tensorShapes.get(parsed.param);
    if (shape === undefined) {
      fault('statistics of tensors the models do not have', key, `${key}${suggest(parsed.param)}`);
      continue;
    }
    const expected = statisticShape(parsed.kind, shape);
    const actual = file.get(key)!.shape;
    if (typeof expected === 'string') fault('statistics that do not apply to their tensor', key, `${key}: ${expected}`);
    else if (formatShape(actual) !== formatShape(expected)) fault('wrong shapes', key, `${key} ${formatShape(actual)}, expected ${formatShape(expected)}`);
  }
  const n = file.metadata.n_examples;
  if (n !== undefined && !(/^\d+$/.test(n) && Number(n) > 0)) problems.add(`${where}: metadata n_examples must be a positive integer, got ${JSON.stringify(n)}`);
  return bad;
}

/** One statistic a method will read, to be checked from its values. */
export interface StatisticToCheck {
  /** "models[0].stats (path)" */
  readonly where: string;
  readonly kind: StatisticKind;
  readonly source: TensorSource;
}

/** Elements read at once for the elementwise checks of a diagonal Fisher. */
const CHUNK = 1 << 20;

/** How a fault is reported: a problem grouped under its subject, or (non-finite, allowed) a warning. */
interface FaultSink {
  report(subject: string, item: string): void;
  /** A non-finite entry: a problem by default, a warning under --allow-nonfinite. Returns whether the checks of this statistic go on. */
  nonFinite(item: string): boolean;
}

/**
 * Reads every listed statistic once (one at a time: memory stays at one statistic) and reports each
 * fault: non-finite entries (the one rule of pipeline/nonfinite.ts: a problem unless allowed,
 * then a warning), negative Fisher entries, asymmetric or negative-diagonal Grams.
 */
export async function checkStatisticsValues(items: readonly StatisticToCheck[], problems: ProblemSink, nonFinite: NonFinitePolicy = { allow: false, warn: () => undefined }): Promise<void> {
  const seen = new Set<string>();
  const unique = items.filter((it) => {
    const id = `${it.source.checkpoint.path}\u0000${it.source.name}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
  let refused = false;
  for (const item of unique) {
    const { source, kind, where } = item;
    const sink: FaultSink = {
      report: (subject, text) => problems.group(`${where}: ${subject}`, text),
      nonFinite(text) {
        if (nonFinite.allow) {
          nonFinite.warn(`warning: ${where}: non-finite statistic ${text} (--allow-nonfinite: merged anyway)`);
          return false;
        }
        refused = true;
        problems.group(`${where}: non-finite values`, text);
        return false;
      },
    };
    if (kind === 'fisher') {
      await checkDiagonalFisher(source, sink);
    } else {
      const m = (await source.checkpoint.readFloats(source.name, 'float64')) as Float64Array;
      checkSymmetricMatrix(m, source.shape[0], source.dtype, source.name, sink.report, sink.nonFinite);
    }
  }
  if (refused) problems.add(`non-finite statistics: fix them, or ${ALLOW_HINT}`);
}

async function checkDiagonalFisher(source: TensorSource, sink: FaultSink): Promise<void> {
  const size = source.shape.reduce((a, b) => a * b, 1);
  for (let offset = 0; offset < size; offset += CHUNK) {
    const length = Math.min(CHUNK, size - offset);
    const values = await source.checkpoint.readFloats(source.name, 'float64', { offset, length });
    const bad = firstNonFinite(values);
    if (bad >= 0 && !sink.nonFinite(`${source.name} ${values[bad]} at ${formatIndex(offset + bad, source.shape)}`)) return;
    for (let j = 0; j < length; j++) {
      const v = values[j];
      if (v < 0) return sink.report('negative diagonal Fisher entries (a Fisher is a mean of squares)', `${source.name} ${v} at ${formatIndex(offset + j, source.shape)}`);
    }
  }
}

/**
 * Checks an [n, n] Gram or Fisher block; reports its first fault. A non-finite entry goes to
 * nonFinite (default: reported like the other faults), which ends the checks.
 */
export function checkSymmetricMatrix(
  m: Float64Array,
  n: number,
  dtype: SafetensorsDType,
  name: string,
  report: (subject: string, item: string) => void,
  nonFinite: (item: string) => boolean = (item) => (report('non-finite values', item), false),
): void {
  const bad = firstNonFinite(m);
  if (bad >= 0 && !nonFinite(`${name} ${m[bad]} at ${formatIndex(bad, [n, n])}`)) return;
  let scale = 0;
  for (let k = 0; k < m.length; k++) scale = Math.max(scale, Math.abs(m[k]));
  for (let i = 0; i < n; i++) {
    if (m[i * n + i] < 0) return report('negative diagonal entries (not positive semi-definite)', `${name} ${m[i * n + i]} at [${i}, ${i}]`);
  }
  const tolerance = symmetryTolerance(dtype) * scale;
  let worst = 0;
  let worstAt = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const d = Math.abs(m[i * n + j] - m[j * n + i]);
      if (d > worst) {
        worst = d;
        worstAt = i * n + j;
      }
    }
  }
  if (worst > tolerance) {
    const i = Math.floor(worstAt / n);
    const j = worstAt % n;
    report(
      'not symmetric',
      `${name} [${i}, ${j}] = ${m[i * n + j]} but [${j}, ${i}] = ${m[j * n + i]} (tolerance ${tolerance.toExponential(2)}; symmetrise it, (M + M^T) / 2, or check how it was computed)`,
    );
  }
}

const UNIT_ROUNDOFF: Partial<Record<SafetensorsDType, number>> = { F64: 2 ** -53, F32: 2 ** -24, F16: 2 ** -11, BF16: 2 ** -8 };

/** tau of the module comment: max(1e-4, 4 u). */
export function symmetryTolerance(dtype: SafetensorsDType): number {
  return Math.max(1e-4, 4 * (UNIT_ROUNDOFF[dtype] ?? 2 ** -24));
}
