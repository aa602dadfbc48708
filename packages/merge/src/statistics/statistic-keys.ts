/**
 * Names of the tensors in a statistics file (DESIGN.md §6): one safetensors file per model,
 * one tensor per (parameter, kind), keyed `<param>::<kind>`.
 *
 * | kind         | shape                          | what                                        |
 * |--------------|--------------------------------|---------------------------------------------|
 * | fisher       | the parameter's own shape      | diagonal Fisher, mean over examples         |
 * | input_gram   | [in, in]   (W is [out, in])    | A = (1/T) sum_t a_t a_t^T over tokens        |
 * | grad_gram    | [out, out]                     | G = (1/T) sum_t g_t g_t^T over tokens        |
 * | fisher_block | [d, d]     (1-D parameter [d]) | full Fisher (1/N) sum_n g_n g_n^T           |
 * | input_mean   | [in]       (W is [out, in])    | m = (1/T) sum_t a_t over the same tokens as A |
 *
 * With input_mean, the input Gram of [a; 1] is [[A, m], [m^T, 1]]: the bias `X.bias` of a
 * weight `X.weight` is then merged with it as one block [W | b] (bias folding).
 */
import type { StatisticKind } from '../methods/method.js';

export const STATISTIC_KINDS: readonly StatisticKind[] = ['fisher', 'input_gram', 'grad_gram', 'fisher_block', 'input_mean'];

/** Separates the parameter name from the statistic kind in a key. */
export const STATISTIC_KEY_SEPARATOR = '::';

/** Metadata key of the number of examples the statistics were estimated from. */
export const N_EXAMPLES_METADATA_KEY = 'n_examples';

/** The key of one statistic of one parameter, e.g. `layers.0.weight::input_gram`. */
export function statisticKey(parameter: string, kind: StatisticKind): string {
  if (parameter.length === 0) throw new RangeError('statisticKey: the parameter name is empty');
  return `${parameter}${STATISTIC_KEY_SEPARATOR}${kind}`;
}

/** Splits a key into parameter and kind; undefined when the key is not a statistic's. */
export function parseStatisticKey(key: string): { parameter: string; kind: StatisticKind } | undefined {
  const at = key.lastIndexOf(STATISTIC_KEY_SEPARATOR);
  if (at <= 0) return undefined;
  const kind = key.slice(at + STATISTIC_KEY_SEPARATOR.length);
  if (!(STATISTIC_KINDS as readonly string[]).includes(kind)) return undefined;
  return { parameter: key.slice(0, at), kind: kind as StatisticKind };
}
