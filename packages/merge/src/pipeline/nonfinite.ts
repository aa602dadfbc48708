/**
 * One rule for NaN and Inf, for every method (DESIGN.md §6): a merge refuses a non-finite value
 * in a weight it reads (base and models), in a statistic (checked in planMerge with the other
 * statistics checks), or in the merged values it is about to write (an overflow, or an output
 * dtype too narrow: F16 holds |x| <= 65504). The message names the file, the tensor and the
 * first bad index. `--allow-nonfinite` (config: `allow_nonfinite: true`) turns each refusal into
 * one warning per tensor and lets the values through.
 *
 * Weights are checked as the merge reads them, not in a pass of their own: a pre-pass would read
 * every input twice, which on a merge larger than the page cache doubles its I/O. The price is
 * that a bad value is found when its tensor comes up, after the earlier tensors were written
 * into the temporary output folder; that folder is removed on the error, so nothing that looks
 * like an output is left (pipeline/run.ts).
 */
import { UserError } from '../errors.js';
import type { FloatArray } from '../safetensors/decode.js';
import type { SafetensorsDType } from '../safetensors/dtype.js';
import { formatIndex, formatShape } from '../util/format.js';

/** Index of the first NaN or +-Inf in values[start, end), or -1. */
export function firstNonFinite(values: ArrayLike<number>, start = 0, end = values.length): number {
  let i = start;
  // x * 0 is +-0 for every finite x and NaN for NaN and +-Inf, so a sum of eight of them is 0
  // exactly when the eight are finite: one branch per eight elements (about twice as fast as one
  // per element, measured on float32 and float64 chunks of 2^18).
  for (; i + 8 <= end; i += 8) {
    const s = values[i] * 0 + values[i + 1] * 0 + values[i + 2] * 0 + values[i + 3] * 0 + values[i + 4] * 0 + values[i + 5] * 0 + values[i + 6] * 0 + values[i + 7] * 0;
    if (s !== 0) break;
  }
  for (; i < end; i++) {
    const v = values[i];
    if (v - v !== 0) return i;
  }
  return -1;
}

/** What to do with a non-finite value: refuse (the default) or warn and go on. */
export interface NonFinitePolicy {
  readonly allow: boolean;
  /** Where warnings go when allowed (the merge's log). */
  readonly warn: (message: string) => void;
}

/** The text of the fix, appended to every refusal. */
export const ALLOW_HINT = 'to merge anyway, pass --allow-nonfinite or set allow_nonfinite: true in the config';

/** A refused non-finite value. */
export class NonFiniteError extends UserError {}

/** "models[1] (/x/a.safetensors): tensor "l.weight" [8, 6] holds NaN at [2, 3]". */
export function describeNonFinite(where: string, tensor: string, shape: readonly number[], flatIndex: number, value: number): string {
  return `${where}: tensor ${JSON.stringify(tensor)} ${formatShape(shape)} holds ${value} at ${formatIndex(flatIndex, shape)}`;
}

/** Largest finite magnitude of a narrow output dtype; values beyond it round to Inf when written. */
const LARGEST_FINITE: Partial<Record<SafetensorsDType, number>> = { F16: 65504 };
/** F16 rounds |x| < 65520 down to 65504 (round to nearest even); from 65520 on it is Inf. */
const ROUNDS_TO_INFINITY: Partial<Record<SafetensorsDType, number>> = { F16: 65520 };

/**
 * Checks the values a merge reads and writes. Each (file, tensor, chunk) is checked once,
 * however many passes read it (TIES's global trim reads every model several times).
 */
export class NonFiniteGuard {
  private readonly checked = new Set<string>();
  private readonly warned = new Set<string>();
  /** Tensors with an allowed non-finite input: NaN in their output is expected, not warned again. */
  private readonly allowedTensors = new Set<string>();

  constructor(private readonly policy: NonFinitePolicy) {}

  /**
   * Values read from an input: `role` ("models[1]", "base"), the file they come from, the
   * tensor's name and shape, and the element offset of values in the tensor.
   */
  input(role: string, file: string, tensor: string, shape: readonly number[], values: FloatArray, offset: number): void {
    const id = `${file}\u0000${tensor}\u0000${offset}`;
    if (this.checked.has(id)) return;
    this.checked.add(id);
    const bad = firstNonFinite(values);
    if (bad < 0) return;
    const text = describeNonFinite(`${role} (${file})`, tensor, shape, offset + bad, values[bad]);
    this.allowedTensors.add(tensor);
    this.refuse(`${file}\u0000${tensor}`, text, `the merge stopped: ${text}; nothing was written`);
  }

  /** Merged values about to be written to a tensor of dtype `dtype`, at element offset. */
  output(method: string, tensor: string, shape: readonly number[], dtype: SafetensorsDType, values: FloatArray, offset: number): void {
    if (this.allowedTensors.has(tensor)) return;
    let bad = firstNonFinite(values);
    let why = 'from finite inputs (an overflow)';
    const limit = ROUNDS_TO_INFINITY[dtype];
    if (bad < 0 && limit !== undefined) {
      for (let i = 0; i < values.length; i++) {
        if (Math.abs(values[i]) >= limit) {
          bad = i;
          why = `and ${dtype} holds at most ${LARGEST_FINITE[dtype]} in magnitude (it would be written as Inf); write a wider output.dtype`;
          break;
        }
      }
    }
    if (bad < 0) return;
    const text = `method ${method}: merged tensor ${JSON.stringify(tensor)} ${formatShape(shape)} has ${values[bad]} at ${formatIndex(offset + bad, shape)} ${why}`;
    this.refuse(`output\u0000${tensor}`, text, `the merge stopped: ${text}; nothing was written`);
  }

  /** Refuses (throws) or, when allowed, warns once per key. */
  private refuse(key: string, text: string, refusal: string): void {
    if (!this.policy.allow) throw new NonFiniteError(`${refusal} (${ALLOW_HINT})`);
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.policy.warn(`warning: ${text} (--allow-nonfinite: merged anyway; later non-finite values of this tensor are not reported)`);
  }
}
