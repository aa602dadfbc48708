/**
 * mergekit configs as they are (arcee-ai/mergekit: config.py, merge_methods/registry.py,
 * merge_methods/generalized_task_arithmetic.py, sparsify.py): a config with a top-level
 * `merge_method` is converted to the native config that computes the same merge, with
 * mergekit's defaults made explicit. Every key is either mapped or refused by name.
 *
 * What mergekit computes, per tensor, for the methods mapped here:
 *   linear: sum_i w_i theta_i (/ sum_i w_i with normalize, the default)            -> average
 *   task_arithmetic, ties, dare_linear, dare_ties, breadcrumbs, breadcrumbs_ties ("generalized
 *   task arithmetic"): tau_i = theta_i - theta_0; sparsify each tau_i per tensor (ties: top
 *   floor(density n) by magnitude; dare: keep with probability density; breadcrumbs: drop the
 *   largest gamma and smallest entries so density stays), optionally rescaled to its L1 norm;
 *   with TIES's consensus (ties, dare_ties, breadcrumbs_ties) keep the entries whose sign is
 *   that of sum_i w_i tau_i (+ where it is 0); sum w_i tau_i (over sum w_i with normalize);
 *   times lambda; plus theta_0.
 * DARE's random draws are mats's (seeded, docs/METHODS.md), not torch's: the same
 * distribution, not the same bits.
 */
import { isAbsolute, relative, resolve } from 'node:path';
import { didYouMean } from '../util/did-you-mean.js';
import { isPerTensor, numbersIn, tensorValueSchema, type FilteredValue, type TensorValue } from './tensor-values.js';

/** mergekit's global parameters of generalized task arithmetic, with the method's defaults. */
interface TaskMapping {
  readonly kind: 'task';
  /** The native method and the knobs the mapping fixes. */
  readonly method: 'task_arithmetic' | 'ties' | 'dare' | 'breadcrumbs';
  readonly fixed: Readonly<Record<string, unknown>>;
  /** mergekit's default of normalize and rescale for this method. */
  readonly normalize: boolean;
  readonly rescale: boolean;
  /** How mergekit sparsifies (none: task_arithmetic). */
  readonly sparsify: 'none' | 'magnitude' | 'random' | 'magnitude_outliers';
}

interface LinearMapping {
  readonly kind: 'linear';
}

type Mapping = TaskMapping | LinearMapping;

/** TIES's sign consensus as mergekit runs it: weighted election, + where the sum is 0, per tensor. */
const CONSENSUS = { trim: 'per_tensor', sign_election: 'weighted', zero_sign: 'positive' } as const;

/** Every mergekit method mats computes, and how. */
export const MERGEKIT_METHODS: Readonly<Record<string, Mapping>> = {
  linear: { kind: 'linear' },
  task_arithmetic: { kind: 'task', method: 'task_arithmetic', fixed: {}, normalize: false, rescale: false, sparsify: 'none' },
  ties: { kind: 'task', method: 'ties', fixed: CONSENSUS, normalize: true, rescale: false, sparsify: 'magnitude' },
  dare_ties: { kind: 'task', method: 'dare', fixed: { combine: 'ties', density: 1, ...CONSENSUS }, normalize: false, rescale: true, sparsify: 'random' },
  dare_linear: { kind: 'task', method: 'dare', fixed: { combine: 'task_arithmetic' }, normalize: false, rescale: true, sparsify: 'random' },
  breadcrumbs: { kind: 'task', method: 'breadcrumbs', fixed: { combine: 'task_arithmetic' }, normalize: false, rescale: false, sparsify: 'magnitude_outliers' },
  breadcrumbs_ties: { kind: 'task', method: 'breadcrumbs', fixed: { combine: 'ties', sign_election: 'weighted', zero_sign: 'positive' }, normalize: false, rescale: false, sparsify: 'magnitude_outliers' },
};

/** mergekit methods with no mats equivalent (named so that the refusal can say so). */
const UNMAPPED_METHODS = ['slerp', 'nuslerp', 'multislerp', 'karcher', 'model_stock', 'arcee_fusion', 'passthrough', 'nearswap', 'sce', 'ram', 'ramplus_tl', 'della', 'della_linear'];

/** Top-level keys of mergekit's MergeConfiguration. */
const TOP_KEYS = ['merge_method', 'models', 'base_model', 'parameters', 'dtype', 'out_dtype', 'tokenizer_source', 'tokenizer', 'chat_template', 'slices', 'modules'];

const DTYPES: Record<string, string> = { bfloat16: 'bfloat16', float16: 'float16', float32: 'float32' };

export function isMergekitConfig(raw: object): boolean {
  return 'merge_method' in raw;
}

export interface ConvertOptions {
  /** mergekit resolves relative model paths against the working folder. */
  readonly cwd: string;
  /** The config file's folder: the native config's paths are written relative to it. */
  readonly configDir: string;
  /** Whether a path exists (for the "this is a Hugging Face Hub id" hint); none: no check. */
  readonly exists?: (path: string) => boolean;
}

export interface ConvertedConfig {
  /** The native config (paths relative to configDir). */
  readonly config: Record<string, unknown>;
  /** Keys and values with no exact mats equivalent, by name: a config with any is refused. */
  readonly problems: readonly string[];
  /** What the user should know about the conversion (precision, keys mergekit itself ignores). */
  readonly notes: readonly string[];
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A per-tensor value with f applied to every number (density -> drop probability). */
function mapNumbers(v: TensorValue, f: (x: number) => number): TensorValue {
  if (typeof v === 'number') return f(v);
  return v.map((e) => (typeof e === 'number' ? f(e) : { ...e, value: typeof e.value === 'number' ? f(e.value) : e.value.map(f) })) as TensorValue;
}

/** Whether a per-tensor value gives a value for every tensor (no filtered list without a catch-all). */
function alwaysResolves(v: TensorValue): boolean {
  if (!isPerTensor(v) || typeof v[0] === 'number') return true;
  return (v as readonly FilteredValue[]).some((e) => e.filter === undefined || e.filter === '*');
}

/** A model's setting with the global one as its fallback, as mergekit's ConfigReader.parameter. */
function withFallback(own: TensorValue | undefined, global: TensorValue | undefined): TensorValue | undefined {
  if (own === undefined) return global;
  if (global === undefined || alwaysResolves(own)) return own;
  const tail: FilteredValue[] = isPerTensor(global) && typeof global[0] !== 'number' ? [...(global as readonly FilteredValue[])] : [{ value: global as number | readonly number[] }];
  return [...(own as readonly FilteredValue[]), ...tail];
}

export function convertMergekitConfig(raw: Record<string, unknown>, options: ConvertOptions): ConvertedConfig {
  const problems: string[] = [];
  const notes: string[] = [];
  const refuse = (message: string) => problems.push(message);

  for (const key of Object.keys(raw)) {
    if (!TOP_KEYS.includes(key)) refuse(`${key}: not a mergekit config key${didYouMean(key, TOP_KEYS)}`);
  }
  for (const key of ['slices', 'modules'] as const) {
    if (raw[key] !== undefined) refuse(`${key}: layer slicing and per-module configs (passthrough frankenmerges) have no mats equivalent; mats merges models of one architecture tensor by tensor (use models:)`);
  }
  if (raw.tokenizer !== undefined) refuse('tokenizer: building a tokenizer (added tokens, embedding sources) has no mats equivalent; mats copies tokenizer files (tokenizer_source)');
  if (raw.chat_template !== undefined) refuse('chat_template: setting a chat template has no mats equivalent; mats copies the tokenizer files as they are');

  const methodName = raw.merge_method;
  const mapping = typeof methodName === 'string' ? MERGEKIT_METHODS[methodName] : undefined;
  if (typeof methodName !== 'string') refuse('merge_method: is required (a string)');
  else if (mapping === undefined) {
    const mapped = Object.keys(MERGEKIT_METHODS);
    refuse(
      `merge_method: ${methodName}${UNMAPPED_METHODS.includes(methodName) ? ' has no mats equivalent' : ` is not a mergekit method mats knows${didYouMean(methodName, [...mapped, ...UNMAPPED_METHODS])}`} (mergekit methods mats runs: ${mapped.join(', ')})`,
    );
  }

  // Model references: local paths, resolved as mergekit does (against the working folder).
  const pathOf = (ref: unknown, where: string): string | undefined => {
    let path: unknown = ref;
    if (isRecord(ref)) {
      for (const key of Object.keys(ref)) {
        if (key === 'lora') refuse(`${where}.lora: a LoRA applied on the fly has no mats equivalent; merge it into its model first`);
        else if (key === 'override_architecture') refuse(`${where}.override_architecture: has no mats equivalent (mats reads tensors by name, whatever the architecture)`);
        else if (key !== 'model') refuse(`${where}.${key}: not a key of a mergekit model reference`);
      }
      path = isRecord(ref.model) ? ref.model.path : ref.model;
      if (isRecord(ref.model) && ref.model.revision !== undefined) refuse(`${where}.model.revision: revisions of Hugging Face Hub models have no mats equivalent (mats reads local folders)`);
    }
    if (typeof path !== 'string' || path.length === 0) {
      refuse(`${where}: a model is a path (a string)`);
      return undefined;
    }
    if (path.includes('+')) {
      refuse(`${where}: ${path}: 'model+lora' applies a LoRA on the fly, which has no mats equivalent; merge it into its model first`);
      return undefined;
    }
    if (path.includes('@')) {
      refuse(`${where}: ${path}: 'model@revision' names a Hugging Face Hub revision; mats reads local folders`);
      return undefined;
    }
    const full = isAbsolute(path) ? path : resolve(options.cwd, path);
    if (options.exists !== undefined && !options.exists(full)) {
      const hub = /^[\w.-]+\/[\w.-]+$/.test(path) ? `; if it is a Hugging Face Hub id, mats reads local folders only: download it first (huggingface-cli download ${path} --local-dir ${path})` : '';
      refuse(`${where}: ${path}: no such file or folder (mergekit resolves relative paths against the working folder, ${options.cwd})${hub}`);
    }
    return full;
  };
  const written = (full: string) => {
    const rel = relative(options.configDir, full);
    return rel === '' ? '.' : isAbsolute(rel) ? full : rel;
  };

  const base = raw.base_model === undefined || raw.base_model === null ? undefined : pathOf(raw.base_model, 'base_model');

  // Parameters: mergekit's declared ones for the method; anything else is refused by name.
  const globalParams = isRecord(raw.parameters) ? raw.parameters : {};
  if (raw.parameters !== undefined && raw.parameters !== null && !isRecord(raw.parameters)) refuse('parameters: a mapping of parameter names to values');
  const tensorParamNames = mapping === undefined ? [] : mapping.kind === 'linear' ? ['weight'] : ['weight', 'density', ...(mapping.sparsify === 'magnitude_outliers' ? ['gamma'] : [])];
  const globalParamNames = mapping === undefined ? [] : mapping.kind === 'linear' ? ['normalize'] : ['int8_mask', 'normalize', 'rescale', 'lambda'];
  const numeric = (value: unknown, where: string): TensorValue | undefined => {
    const parsed = tensorValueSchema.safeParse(value);
    if (!parsed.success) {
      refuse(`${where}: ${JSON.stringify(value)} is not a number, a list of numbers (a gradient) or a list of {filter, value}`);
      return undefined;
    }
    return parsed.data;
  };
  const flag = (name: string, fallback: boolean): boolean => {
    const value = globalParams[name];
    if (value === undefined || value === null) return fallback;
    if (typeof value === 'boolean') return value;
    if (value === 0 || value === 1) return value === 1;
    refuse(`parameters.${name}: ${JSON.stringify(value)}: mats takes one value (true or false) for the whole merge; per-tensor values of ${name} have no mats equivalent`);
    return fallback;
  };
  for (const key of Object.keys(globalParams)) {
    if (mapping !== undefined && !tensorParamNames.includes(key) && !globalParamNames.includes(key)) {
      refuse(`parameters.${key}: not a parameter of mergekit's ${methodName}${didYouMean(key, [...globalParamNames, ...tensorParamNames])} (its parameters: ${[...globalParamNames, ...tensorParamNames].join(', ')})`);
    }
  }
  const globalTensor: Record<string, TensorValue | undefined> = {};
  for (const name of tensorParamNames) if (globalParams[name] !== undefined && globalParams[name] !== null) globalTensor[name] = numeric(globalParams[name], `parameters.${name}`);

  // Models: each with its own tensor parameters; the base, when listed, is not a task vector.
  const models: Record<string, unknown>[] = [];
  if (!Array.isArray(raw.models) || raw.models.length === 0) refuse('models: a list of {model, parameters} (mats runs mergekit configs with models:)');
  const entries = Array.isArray(raw.models) ? raw.models : [];
  let baseListed = false;
  const modelPaths: (string | undefined)[] = [];
  entries.forEach((entry, i) => {
    const where = `models[${i}]`;
    if (!isRecord(entry)) {
      refuse(`${where}: a model entry is {model, parameters}`);
      return;
    }
    for (const key of Object.keys(entry)) if (key !== 'model' && key !== 'parameters') refuse(`${where}.${key}: not a key of a mergekit model entry (model, parameters)`);
    const path = pathOf(entry.model, `${where}.model`);
    modelPaths.push(path);
    const own = entry.parameters === undefined || entry.parameters === null ? {} : entry.parameters;
    if (!isRecord(own)) {
      refuse(`${where}.parameters: a mapping of parameter names to values`);
      return;
    }
    for (const key of Object.keys(own)) {
      if (mapping === undefined || tensorParamNames.includes(key)) continue;
      refuse(
        globalParamNames.includes(key)
          ? `${where}.parameters.${key}: ${key} is a global parameter of mergekit's ${methodName} (mergekit ignores it here); move it to parameters`
          : `${where}.parameters.${key}: not a per-model parameter of mergekit's ${methodName}${didYouMean(key, tensorParamNames)} (its per-model parameters: ${tensorParamNames.join(', ')})`,
      );
    }
    if (path === undefined || mapping === undefined) return;
    if (mapping.kind === 'task' && base !== undefined && path === base) {
      baseListed = true;
      if (Object.keys(own).length > 0) notes.push(`${where} is the base model: mergekit takes no task vector from it, so its parameters have no effect`);
      return;
    }
    const out: Record<string, unknown> = { path: written(path) };
    const weight = withFallback(own.weight === undefined ? undefined : numeric(own.weight, `${where}.parameters.weight`), globalTensor.weight);
    if (weight === undefined) refuse(`${where}: mergekit's ${methodName} needs a weight for every model (parameters.weight, or the model's own)`);
    else if (numbersIn(weight).some((w) => w < 0)) refuse(`${where}.parameters.weight: ${JSON.stringify(weight)}: mats weights are >= 0 (a negative weight, negating a task vector, has no mats equivalent)`);
    else out.weight = weight;
    for (const name of tensorParamNames) {
      if (name === 'weight' || own[name] === undefined || own[name] === null) continue;
      const value = numeric(own[name], `${where}.parameters.${name}`);
      if (value !== undefined) out[name] = value;
    }
    models.push(out);
  });

  const native: Record<string, unknown> = {};
  if (mapping?.kind === 'linear') {
    native.method = 'average';
    if (!flag('normalize', true)) refuse('parameters.normalize: false: mats\'s average always divides by sum_i w_i; give weights that sum to 1 instead (the same merge)');
    if (base !== undefined && !modelPaths.includes(base)) {
      // mergekit adds the base to the inputs, where it takes the global weight (none: mergekit fails).
      if (globalTensor.weight === undefined) refuse('base_model: mergekit\'s linear averages the base too, with parameters.weight, and there is none (mergekit fails on this config); list the base under models or drop base_model');
      else models.push({ path: written(base), weight: globalTensor.weight });
    }
  } else if (mapping?.kind === 'task') {
    native.method = mapping.method;
    if (base === undefined) refuse(`base_model: mergekit's ${methodName} takes task vectors against a base model; add base_model`);
    else native.base = written(base);
    if (baseListed) notes.push('the base model is also listed under models: mergekit takes no task vector from it, and neither does mats');
    const parameters: Record<string, unknown> = { ...mapping.fixed };
    const lambda = globalParams.lambda === undefined || globalParams.lambda === null ? 1 : numeric(globalParams.lambda, 'parameters.lambda');
    if (lambda !== undefined) parameters.lambda = lambda;
    parameters.normalize = flag('normalize', mapping.normalize);
    const rescale = flag('rescale', mapping.rescale);
    if (globalParams.int8_mask !== undefined) notes.push('parameters.int8_mask only sets the dtype of mergekit\'s sign mask: no effect on the values (mats\'s masks are bytes)');
    const density = globalTensor.density ?? 1;
    if (mapping.sparsify === 'none') {
      if (globalParams.rescale !== undefined) notes.push('parameters.rescale: mergekit\'s task_arithmetic does not sparsify, so rescale has no effect (nor has it in mats)');
      if (globalTensor.density !== undefined || models.some((m) => m.density !== undefined)) notes.push('density: mergekit\'s task_arithmetic does not sparsify, so density has no effect (nor has it in mats)');
      for (const m of models) delete m.density;
    } else if (mapping.sparsify === 'random') {
      // DARE keeps each entry with probability density: the native knob is the drop probability p.
      parameters.p = mapNumbers(density, (d) => 1 - d);
      parameters.rescale = rescale ? 'l1' : 'none';
      for (const m of models) {
        if (m.density === undefined) continue;
        m.p = mapNumbers(m.density as TensorValue, (d) => 1 - d);
        delete m.density;
      }
    } else {
      parameters.density = density;
      parameters.rescale = rescale ? 'l1' : 'none';
      if (mapping.sparsify === 'magnitude_outliers') parameters.gamma = globalTensor.gamma ?? 0.01;
    }
    native.parameters = parameters;
  }
  native.models = models;

  // dtype: mergekit computes in it and writes it (unless out_dtype); mats computes in float32.
  const dtypeOf = (key: 'dtype' | 'out_dtype'): string | undefined => {
    const value = raw[key];
    if (value === undefined || value === null) return undefined;
    const name = typeof value === 'string' ? value.replace(/^torch\./, '') : '';
    if (DTYPES[name] === undefined) {
      refuse(`${key}: ${JSON.stringify(value)}: mats writes bfloat16, float16 or float32 (mergekit's floating dtypes)`);
      return undefined;
    }
    return DTYPES[name];
  };
  const dtype = dtypeOf('dtype');
  const outDtype = dtypeOf('out_dtype') ?? dtype;
  const output: Record<string, unknown> = {};
  if (outDtype !== undefined) output.dtype = outDtype;
  if (dtype !== undefined && dtype !== 'float32') {
    notes.push(`dtype: ${dtype}: mergekit computes in ${dtype}; mats reads and computes in float32 and rounds each result to ${outDtype} once, so results agree to ${dtype} rounding`);
  }
  const tokenizer = raw.tokenizer_source;
  if (tokenizer !== undefined && tokenizer !== null) {
    if (tokenizer === 'union') refuse('tokenizer_source: union builds a new vocabulary and permutes embeddings, which has no mats equivalent; use base or a model');
    else if (tokenizer === 'base') {
      if (base === undefined) refuse('tokenizer_source: base needs base_model');
      else output.tokenizer_source = written(base);
    } else {
      const path = pathOf(tokenizer, 'tokenizer_source');
      if (path !== undefined) output.tokenizer_source = written(path);
    }
  }
  if (Object.keys(output).length > 0) native.output = output;
  return { config: native, problems, notes };
}
