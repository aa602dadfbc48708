/**
 * The page's form as a merge config: the text the worker parses and records in the output's
 * metadata, and that `mats merge merge.yaml` reads to write the same bytes when the inputs lie
 * beside it under the same names.
 */
import { stringify } from 'yaml';

export interface ModelChoice {
  /** Relative path of the dropped file or folder. */
  readonly path: string;
  /** w_i; undefined: the default (1). */
  readonly weight?: number;
  /** Relative path of its statistics file. */
  readonly stats?: string;
}

export interface MergeForm {
  readonly method: string;
  readonly base?: string;
  readonly models: readonly ModelChoice[];
  /** The knobs set on the form; the others take the method's defaults. */
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly output: { readonly path: string; readonly dtype: string; readonly shardSize: string };
  readonly precision: 'float32' | 'float64';
  readonly seed: number;
}

export function configText(form: MergeForm): string {
  const config: Record<string, unknown> = { method: form.method };
  if (form.base !== undefined) config.base = form.base;
  config.models = form.models.map((m) => ({
    path: m.path,
    ...(m.weight !== undefined ? { weight: m.weight } : {}),
    ...(m.stats !== undefined ? { stats: m.stats } : {}),
  }));
  if (Object.keys(form.parameters).length > 0) config.parameters = form.parameters;
  config.output = { path: form.output.path, dtype: form.output.dtype, shard_size: form.output.shardSize };
  config.precision = form.precision;
  config.seed = form.seed;
  return stringify(config);
}
