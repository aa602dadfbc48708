/**
 * Loading a config: YAML -> schema -> method lookup, with every problem reported at once and
 * relative paths resolved against the config file's folder.
 */
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { UserError, ValidationError } from '../errors.js';
import { findMethod, methodNames } from '../methods/registry.js';
import { didYouMean } from '../util/did-you-mean.js';
import { withoutNullKeys } from './null-keys.js';
import { configSchema, type OutputDType, type RawConfig } from './schema.js';
import { formatIssues } from './zod-issues.js';

export interface ModelEntry {
  /** Absolute path. */
  readonly path: string;
  readonly stats?: string;
  readonly weight: number;
}

/** A config after validation, with absolute paths. Method parameters are still raw. */
export interface MergeConfig {
  readonly method: string;
  readonly base?: string;
  readonly models: readonly ModelEntry[];
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly output: { readonly path?: string; readonly dtype: OutputDType; readonly shardSize: number };
  readonly backend: 'cpu' | 'gpu';
  readonly precision: 'float32' | 'float64';
  readonly seed: number;
  readonly aliases: Readonly<Record<string, readonly string[]>>;
  /** Merge inputs holding NaN or Inf, with a warning, instead of refusing them (pipeline/nonfinite.ts). */
  readonly allowNonFinite: boolean;
  /** The config file (absolute), or '<inline>'. */
  readonly source: string;
  /** The config text as given, recorded in the output's metadata. */
  readonly text: string;
}

/** yaml's default: the most alias references a document may expand. */
const MAX_ALIAS_COUNT = 100;

/** Parses config text; relative paths resolve against baseDir. */
export function parseConfig(text: string, source: string, baseDir: string): MergeConfig {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ValidationError(`${source} is not valid YAML`, doc.errors.map((e) => e.message));
  }
  let raw: unknown;
  try {
    // Aliases are expanded here; yaml stops one that expands without bound ("billion laughs").
    raw = withoutNullKeys(doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }));
  } catch (e) {
    throw new UserError(`${source}: ${(e as Error).message.startsWith('Excessive alias count') ? 'its YAML aliases (*name) expand into too many values (the YAML parser stops at "Excessive alias count"); write the values out, or refer to an anchor less often' : `cannot read the YAML: ${(e as Error).message}`}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new UserError(`${source}: a config is a YAML mapping with at least method and models`);
  }
  const parsed = configSchema.safeParse(raw, { reportInput: true });
  const problems = parsed.success ? [] : formatIssues(parsed.error.issues, configSchema);
  const method = (raw as Record<string, unknown>).method;
  if (typeof method === 'string' && findMethod(method) === undefined) {
    problems.unshift(`method: unknown method '${method}'${didYouMean(method, methodNames())} (methods: ${methodNames().join(', ')})`);
  }
  if (problems.length > 0 || !parsed.success) throw new ValidationError(`${source} is invalid`, problems);
  return normalise(parsed.data, source, text, baseDir);
}

export async function loadConfig(file: string): Promise<MergeConfig> {
  const full = resolve(file);
  let text: string;
  try {
    text = await readFile(full, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`${full}: cannot read the config (${code === 'ENOENT' ? 'no such file' : (code ?? String(e))})`);
  }
  return parseConfig(text, full, dirname(full));
}

function normalise(c: RawConfig, source: string, text: string, baseDir: string): MergeConfig {
  const at = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  const aliases: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(c.aliases)) aliases[k] = typeof v === 'string' ? [v] : v;
  return {
    method: c.method,
    base: c.base === undefined ? undefined : at(c.base),
    models: c.models.map((m) => ({ path: at(m.path), stats: m.stats === undefined ? undefined : at(m.stats), weight: m.weight ?? 1 })),
    parameters: c.parameters,
    output: { path: c.output.path === undefined ? undefined : at(c.output.path), dtype: c.output.dtype, shardSize: c.output.shard_size },
    backend: c.backend,
    precision: c.precision,
    seed: c.seed,
    aliases,
    allowNonFinite: c.allow_nonfinite,
    source,
    text,
  };
}
