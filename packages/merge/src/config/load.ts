/**
 * Loading a config: YAML -> (a mergekit config converted to the native form) -> schema ->
 * method lookup, with every problem reported at once and relative paths resolved against the
 * config file's folder.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { UserError, ValidationError } from '../errors.js';
import { findMethod, methodNames } from '../methods/registry.js';
import { didYouMean } from '../util/did-you-mean.js';
import { convertMergekitConfig, isMergekitConfig } from './mergekit.js';
import { withoutNullKeys } from './null-keys.js';
import { configSchema, MODEL_KEYS, type OutputDType, type RawConfig } from './schema.js';
import { tensorValueSchema, type TensorValue } from './tensor-values.js';
import { formatIssues } from './zod-issues.js';

export interface ModelEntry {
  /** Absolute path. */
  readonly path: string;
  readonly stats?: string;
  /** w_i: a number (1 when not given), or per tensor (a layer gradient or a filtered list). */
  readonly weight: TensorValue;
  /** The method's per-model knobs given under this model (density, ...), as written. */
  readonly parameters: Readonly<Record<string, TensorValue>>;
}

/** A config after validation, with absolute paths. Method parameters are still raw. */
export interface MergeConfig {
  readonly method: string;
  readonly base?: string;
  readonly models: readonly ModelEntry[];
  /** Raw knobs; numeric ones may be per-tensor values (tensor-values.ts). */
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly output: {
    readonly path?: string;
    readonly dtype: OutputDType;
    readonly shardSize: number;
    /** Folder to copy tokenizer files from (absolute). */
    readonly tokenizerSource?: string;
  };
  readonly backend: 'cpu' | 'gpu';
  readonly precision: 'float32' | 'float64';
  readonly seed: number;
  readonly aliases: Readonly<Record<string, readonly string[]>>;
  /** Merge inputs holding NaN or Inf, with a warning, instead of refusing them (pipeline/nonfinite.ts). */
  readonly allowNonFinite: boolean;
  /** The config file (absolute), or '<inline>'. */
  readonly source: string;
  /** The folder relative paths are resolved against: the config file's. */
  readonly baseDir: string;
  /** The config text as given. */
  readonly text: string;
  /** The native config as parsed (paths as written): for a mergekit config, what it became. */
  readonly raw: Readonly<Record<string, unknown>>;
  /** The YAML as given, parsed (the mergekit mapping for a mergekit config). */
  readonly given: Readonly<Record<string, unknown>>;
  /** 'mergekit' when the text was a mergekit config, converted. */
  readonly format: 'mats' | 'mergekit';
  /** What the conversion of a mergekit config wants the user to know (precision, ...). */
  readonly notes: readonly string[];
}

export interface ParseOptions {
  /** The working folder a mergekit config's relative model paths are resolved against (mergekit's rule). */
  readonly cwd?: string;
  /** Whether a path exists: lets a mergekit config's missing model get a hint (loadConfig checks the disk). */
  readonly exists?: (path: string) => boolean;
}

/** yaml's default: the most alias references a document may expand. */
const MAX_ALIAS_COUNT = 100;

/** A config's YAML as a mapping, null keys dropped (null-keys.ts), aliases bounded; a UserError naming source otherwise. */
export function readYamlMapping(text: string, source: string): Record<string, unknown> {
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
  return raw as Record<string, unknown>;
}

/** Parses config text; relative paths resolve against baseDir. */
export function parseConfig(text: string, source: string, baseDir: string, options: ParseOptions = {}): MergeConfig {
  const given = readYamlMapping(text, source);
  let raw: unknown = given;
  let format: MergeConfig['format'] = 'mats';
  let notes: readonly string[] = [];
  if (isMergekitConfig(given)) {
    const converted = convertMergekitConfig(given, { cwd: options.cwd ?? process.cwd(), configDir: baseDir, exists: options.exists });
    if (converted.problems.length > 0) throw new ValidationError(`${source} is a mergekit config that mats cannot run as it is`, converted.problems);
    raw = converted.config;
    format = 'mergekit';
    notes = converted.notes;
  }
  const parsed = configSchema.safeParse(raw, { reportInput: true });
  const problems = parsed.success ? [] : formatIssues(parsed.error.issues, configSchema);
  const methodName = (raw as Record<string, unknown>).method;
  const method = typeof methodName === 'string' ? findMethod(methodName) : undefined;
  if (typeof methodName === 'string' && method === undefined) {
    problems.unshift(`method: unknown method '${methodName}'${didYouMean(methodName, methodNames())} (methods: ${methodNames().join(', ')})`);
  }
  if (parsed.success && method !== undefined) problems.push(...modelKnobProblems(parsed.data, method.name, method.perModel ?? []));
  problems.push(...parameterValueProblems(raw as Record<string, unknown>));
  if (problems.length > 0 || !parsed.success) throw new ValidationError(`${source} is invalid`, problems);
  return normalise(parsed.data, { source, text, baseDir, raw: raw as Record<string, unknown>, given, format, notes });
}

/** A model entry's keys beyond path, stats and weight must be per-model knobs of the method. */
function modelKnobProblems(c: RawConfig, method: string, perModel: readonly string[]): string[] {
  const problems: string[] = [];
  const known = [...MODEL_KEYS, ...perModel];
  c.models.forEach((m, i) => {
    for (const [key, value] of Object.entries(m)) {
      if ((MODEL_KEYS as readonly string[]).includes(key)) continue;
      if (!perModel.includes(key)) {
        const knobs = perModel.length > 0 ? `per-model knobs of ${method}: ${perModel.join(', ')}` : `${method} has no per-model knobs`;
        problems.push(`models[${i}].${key}: unknown key${didYouMean(key, known)} (model keys: ${MODEL_KEYS.join(', ')}; ${knobs})`);
        continue;
      }
      const checked = tensorValueSchema.safeParse(value, { reportInput: true });
      if (!checked.success) problems.push(`models[${i}].${key}: ${JSON.stringify(value)} is not a number, a list of numbers (a layer gradient) or a list of {filter, value}`);
    }
  });
  return problems;
}

/** A list in parameters: is a per-tensor value (a gradient or a filtered list), nothing else. */
function parameterValueProblems(raw: Record<string, unknown>): string[] {
  const parameters = raw.parameters;
  if (typeof parameters !== 'object' || parameters === null || Array.isArray(parameters)) return [];
  const problems: string[] = [];
  for (const [key, value] of Object.entries(parameters)) {
    if (Array.isArray(value) && !tensorValueSchema.safeParse(value).success) {
      problems.push(`parameters.${key}: a list is a per-tensor value: a list of numbers (a layer gradient) or a list of {filter, value}; got ${JSON.stringify(value)}`);
    }
  }
  return problems;
}

/** A config file's absolute path and text; a file that cannot be read is a UserError naming it. */
export async function readConfigFile(file: string): Promise<{ path: string; text: string }> {
  const full = resolve(file);
  try {
    return { path: full, text: await readFile(full, 'utf8') };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`${full}: cannot read the config (${code === 'ENOENT' ? 'no such file' : (code ?? String(e))})`);
  }
}

export async function loadConfig(file: string, options: ParseOptions = {}): Promise<MergeConfig> {
  const { path, text } = await readConfigFile(file);
  return parseConfig(text, path, dirname(path), { exists: existsSync, ...options });
}

interface Origin {
  readonly source: string;
  readonly text: string;
  readonly baseDir: string;
  readonly raw: Record<string, unknown>;
  readonly given: Record<string, unknown>;
  readonly format: MergeConfig['format'];
  readonly notes: readonly string[];
}

function normalise(c: RawConfig, origin: Origin): MergeConfig {
  const at = (p: string) => (isAbsolute(p) ? p : resolve(origin.baseDir, p));
  const aliases: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(c.aliases)) aliases[k] = typeof v === 'string' ? [v] : v;
  return {
    method: c.method,
    base: c.base === undefined ? undefined : at(c.base),
    models: c.models.map(({ path, stats, weight, ...knobs }) => ({
      path: at(path),
      stats: stats === undefined ? undefined : at(stats as string),
      weight: weight ?? 1,
      parameters: knobs as Record<string, TensorValue>,
    })),
    parameters: c.parameters,
    output: {
      path: c.output.path === undefined ? undefined : at(c.output.path),
      dtype: c.output.dtype,
      shardSize: c.output.shard_size,
      tokenizerSource: c.output.tokenizer_source === undefined ? undefined : at(c.output.tokenizer_source),
    },
    backend: c.backend,
    precision: c.precision,
    seed: c.seed,
    aliases,
    allowNonFinite: c.allow_nonfinite,
    ...origin,
  };
}
