/**
 * Exactly-k top-magnitude selection over a stream of arrays, with bounded memory: a radix
 * select over the bits of |x|. For non-negative IEEE floats the bit pattern orders like the
 * value, so the k-th largest |x| is found one 16-bit digit at a time, most significant first,
 * with a 65536-bin histogram per pass (2 passes for float32, 4 for float64, fewer when a bin
 * holds exactly the entries still wanted). Entries equal to the threshold are kept in stream
 * order until k are kept: ties are broken by index, never by ">= threshold".
 *
 * Used per tensor (mergekit's TIES trim) and across a whole model (the TIES paper's global
 * trim: one selector per model, fed every tensor of the model in plan order).
 */
import type { FloatArray } from '../safetensors/decode.js';

const BINS = 1 << 16;

/** The digits of |x| as 16-bit words, most significant first, for element i. */
function digitsPerKey(values: FloatArray): number {
  return values instanceof Float64Array ? 4 : 2;
}

/** Little-endian host: the 16-bit words of element i are [i*d + d - 1 ... i*d]; sign bit masked. */
function wordsOf(values: FloatArray): Uint16Array {
  return new Uint16Array(values.buffer, values.byteOffset, values.length * digitsPerKey(values));
}

export interface KeepRule {
  /** Keep every entry whose leading `depth` digits are above prefix. */
  readonly depth: number;
  /** The threshold's leading digits (length depth), most significant first. */
  readonly prefix: readonly number[];
  /** Entries whose leading digits equal prefix: keep this many more, in stream order. */
  tiesLeft: number;
  /** More entries equal the prefix than tiesLeft: which are kept depends on the stream order. */
  readonly ordered: boolean;
  /** Nothing to keep (k = 0). */
  readonly none: boolean;
  /** Everything to keep (k >= total). */
  readonly all: boolean;
}

/** Finds the rule that keeps exactly k of the entries fed to it, pass by pass. */
export class MagnitudeSelector {
  private readonly prefix: number[] = [];
  private wanted: number;
  private histogram = new Float64Array(BINS);
  private digits = 0;
  private total = 0;
  private finished = false;
  private rule: KeepRule | undefined;

  constructor(readonly k: number) {
    this.wanted = k;
  }

  /** True once the rule is known; feed another pass while false. */
  get done(): boolean {
    return this.finished;
  }

  /** Feeds one array of a pass. The first pass also counts entries (and fixes float width). */
  add(values: FloatArray): void {
    if (this.finished) return;
    const d = digitsPerKey(values);
    if (this.digits === 0) this.digits = d;
    else if (this.digits !== d) throw new Error('MagnitudeSelector: float32 and float64 arrays mixed in one selection');
    const depth = this.prefix.length;
    if (depth === 0) this.total += values.length;
    const words = wordsOf(values);
    const h = this.histogram;
    const top = d - 1;
    const n = values.length;
    if (depth === 0) {
      for (let i = 0, w = top; i < n; i++, w += d) h[words[w] & 0x7fff]++;
      return;
    }
    // Histogram the next digit among entries whose leading digits equal the prefix.
    const prefix = this.prefix;
    outer: for (let i = 0, base = top; i < n; i++, base += d) {
      if ((words[base] & 0x7fff) !== prefix[0]) continue;
      for (let p = 1; p < depth; p++) if (words[base - p] !== prefix[p]) continue outer;
      h[words[base - depth]]++;
    }
  }

  /** Ends a pass: fixes one more digit of the threshold. */
  endPass(): void {
    if (this.finished) return;
    if (this.prefix.length === 0 && (this.wanted <= 0 || this.wanted >= this.total)) {
      // k = 0 keeps nothing; k >= n keeps everything: no threshold needed.
      this.rule = { depth: 0, prefix: [], tiesLeft: 0, ordered: false, none: this.wanted <= 0, all: this.wanted > 0 };
      this.finished = true;
      return;
    }
    const h = this.histogram;
    let above = 0;
    let bin = BINS - 1;
    for (; bin > 0; bin--) {
      if (above + h[bin] >= this.wanted) break;
      above += h[bin];
    }
    this.wanted -= above;
    this.prefix.push(bin);
    const exact = h[bin] === this.wanted;
    h.fill(0);
    if (exact || this.prefix.length === this.digits) {
      this.rule = { depth: this.prefix.length, prefix: [...this.prefix], tiesLeft: this.wanted, ordered: !exact, none: false, all: false };
      this.finished = true;
    }
  }

  /** The keep rule; only once done. */
  result(): KeepRule {
    if (this.rule === undefined) throw new Error('MagnitudeSelector: result() before the selection finished');
    return this.rule;
  }
}

/**
 * Marks in keep (1 = kept) the entries of values the rule keeps, consuming its ties in order.
 * Returns the number kept.
 */
export function applyKeepRule(values: FloatArray, rule: KeepRule, keep: Uint8Array): number {
  const n = values.length;
  if (rule.none) {
    keep.fill(0, 0, n);
    return 0;
  }
  if (rule.all) {
    keep.fill(1, 0, n);
    return n;
  }
  const d = digitsPerKey(values);
  const words = wordsOf(values);
  const { depth, prefix } = rule;
  let kept = 0;
  for (let i = 0, base = d - 1; i < n; i++, base += d) {
    // Compare the leading `depth` digits with the prefix, most significant first.
    let cmp = 0;
    for (let p = 0; p < depth; p++) {
      const digit = p === 0 ? words[base] & 0x7fff : words[base - p];
      if (digit !== prefix[p]) {
        cmp = digit > prefix[p] ? 1 : -1;
        break;
      }
    }
    let k = 0;
    if (cmp > 0) k = 1;
    else if (cmp === 0 && rule.tiesLeft > 0) {
      rule.tiesLeft--;
      k = 1;
    }
    keep[i] = k;
    kept += k;
  }
  return kept;
}

/** Runs a whole selection over one in-memory array: the exactly-k mask of its top |x|. */
export function topMagnitudeMask(values: FloatArray, k: number): Uint8Array {
  const selector = new MagnitudeSelector(k);
  while (!selector.done) {
    selector.add(values);
    selector.endPass();
  }
  const keep = new Uint8Array(values.length);
  applyKeepRule(values, selector.result(), keep);
  return keep;
}
