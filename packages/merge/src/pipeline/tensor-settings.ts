/**
 * Each merged tensor's parameters: the config's knobs and weights evaluated for the tensor
 * (numeric knobs and weights may be layer gradients or filtered lists, tensor-values.ts), and
 * each model's own knobs on top of the global ones (MergeMethod.perModel). Every distinct set is
 * bound (validated) once; tensors with equal values share it.
 *
 * Per-tensor values are numbers, so the structure of the method tree (its nested methods, which
 * statistics it needs, whether it is elementwise) is that of the binding without them.
 */
import type { MergeConfig } from '../config/load.js';
import { layerPositions } from '../config/layer-position.js';
import { isPerTensor, usesGradient, valueAt, type TensorValue } from '../config/tensor-values.js';
import { formatIssues } from '../config/zod-issues.js';
import { bindingsInOrder, bindMethod, type MethodBinding } from './bind.js';

export interface TensorSetting {
  /** The method tree bound with this tensor's parameters. */
  readonly binding: MethodBinding;
  /** Each model's parameters: the root's with the model's own knobs on top, validated. */
  readonly modelParameters: readonly unknown[];
  /** Each model's weight for this tensor. */
  readonly weights: readonly number[];
  /** Position of (binding, modelParameters) in TensorSettings.bindings: the run binds each once. */
  readonly bindingIndex: number;
}

export interface TensorSettings {
  /** The setting of each merged tensor, by name. */
  readonly of: ReadonlyMap<string, TensorSetting>;
  /** The distinct (binding, model parameters) pairs, in first-use order: one unless knobs vary by tensor. */
  readonly bindings: readonly TensorSetting[];
  /** Knobs (as `parameters.x` or `models[i].x`) that vary by tensor. */
  readonly perTensor: readonly string[];
}

/** Where problems go: once (add), or grouped with the tensors they concern (group). */
export interface ProblemSink {
  add(line: string): void;
  group(subject: string, item: string): void;
}

/** The config's parameters without per-tensor values (their knobs take defaults): the tree's structure. */
export function staticParameters(config: MergeConfig): Record<string, unknown> {
  return Object.fromEntries(Object.entries(config.parameters).filter(([, v]) => !isPerTensor(v)));
}

/**
 * Resolves every merged tensor's setting. `root` is the binding of staticParameters(config);
 * allNames are every tensor of the reference (they place layers for gradients).
 */
export function resolveTensorSettings(config: MergeConfig, root: MethodBinding, merged: readonly string[], allNames: readonly string[], problems: ProblemSink): TensorSettings {
  const M = config.models.length;
  const globalPerTensor = Object.entries(config.parameters).filter(([, v]) => isPerTensor(v)) as [string, TensorValue][];
  const perTensor = [
    ...globalPerTensor.map(([k]) => `parameters.${k}`),
    ...config.models.flatMap((m, i) => [...(isPerTensor(m.weight) ? [`models[${i}].weight`] : []), ...Object.entries(m.parameters).filter(([, v]) => isPerTensor(v)).map(([k]) => `models[${i}].${k}`)]),
  ];
  const hasModelKnobs = config.models.some((m) => Object.keys(m.parameters).length > 0);

  if (perTensor.length === 0 && !hasModelKnobs) {
    const setting: TensorSetting = { binding: root, modelParameters: config.models.map(() => root.parameters), weights: config.models.map((m) => m.weight as number), bindingIndex: 0 };
    return { of: new Map(merged.map((n) => [n, setting])), bindings: [setting], perTensor };
  }

  const gradients = globalPerTensor.some(([, v]) => usesGradient(v)) || config.models.some((m) => usesGradient(m.weight) || Object.values(m.parameters).some(usesGradient));
  const layers = gradients ? layerPositions(allNames) : undefined;
  for (const p of layers?.problems ?? []) problems.add(`gradient values (${perTensor.join(', ')}): ${p}`);
  const positionOf = (name: string) => layers?.positions.get(name) ?? 0;

  const fixed = staticParameters(config);
  const rootBindings = new Map<string, MethodBinding | undefined>();
  const modelParameterCache = new Map<string, unknown>();
  const pairs = new Map<string, TensorSetting>();
  const settings = new Map<string, TensorSetting>();
  const of = new Map<string, TensorSetting>();
  // A problem met at a per-tensor value is grouped with its tensors; one from fixed values comes once.
  const report = (message: string, tensor: string, varies: boolean) => (varies ? problems.group(message, tensor) : problems.add(message));
  const reported = new Set<string>();
  const once = (message: string) => {
    if (!reported.has(message)) {
      reported.add(message);
      problems.add(message);
    }
  };

  for (const name of merged) {
    const t = positionOf(name);
    const global: Record<string, unknown> = { ...fixed };
    for (const [k, v] of globalPerTensor) {
      const value = valueAt(v, name, t);
      if (value !== undefined) global[k] = value;
    }
    const globalKey = JSON.stringify(global);
    let binding = rootBindings.get(globalKey);
    if (!rootBindings.has(globalKey)) {
      const found: string[] = [];
      binding = bindMethod({ method: config.method, parameters: global }, 'parameters', found);
      rootBindings.set(globalKey, binding);
      for (const f of found) report(f, name, globalPerTensor.length > 0);
    }
    if (binding === undefined) continue;

    const modelParameters: unknown[] = [];
    const modelKeys: string[] = [];
    let ok = true;
    for (let i = 0; i < M; i++) {
      const own: Record<string, unknown> = {};
      let varies = false;
      for (const [k, v] of Object.entries(config.models[i].parameters)) {
        varies ||= isPerTensor(v);
        const value = valueAt(v, name, t);
        if (value !== undefined) own[k] = value;
      }
      if (Object.keys(own).length === 0) {
        modelParameters.push(binding.parameters);
        modelKeys.push('');
        continue;
      }
      const key = JSON.stringify([global, own]);
      if (!modelParameterCache.has(key)) {
        const parsed = binding.method.parameters.safeParse({ ...global, ...own }, { reportInput: true });
        if (parsed.success) modelParameterCache.set(key, parsed.data);
        else {
          modelParameterCache.set(key, undefined);
          // Only the model's own knobs are its problem; the global ones are reported above.
          const issues = parsed.error.issues.filter((issue) => typeof issue.path[0] === 'string' && issue.path[0] in own);
          for (const line of formatIssues(issues, binding.method.parameters, `models[${i}]`)) (varies || globalPerTensor.length > 0 ? (m: string) => report(m, name, true) : once)(`${line} (method ${binding.method.name})`);
        }
      }
      const p = modelParameterCache.get(key);
      if (p === undefined) ok = false;
      modelParameters.push(p);
      modelKeys.push(key);
    }

    const weights: number[] = [];
    config.models.forEach((m, i) => {
      const w = valueAt(m.weight, name, t);
      if (w === undefined) {
        problems.group(`models[${i}].weight: no entry of its list applies (add one without filter)`, name);
        ok = false;
      }
      weights.push(w ?? 0);
    });
    if (ok && weights.every((w) => w === 0)) {
      problems.group('models: every weight is 0 for these tensors; at least one must be positive', name);
      ok = false;
    }
    if (!ok) continue;

    const pairKey = `${globalKey}\n${modelKeys.join('\n')}`;
    let pair = pairs.get(pairKey);
    if (pair === undefined) pairs.set(pairKey, (pair = { binding, modelParameters, weights, bindingIndex: pairs.size }));
    const settingKey = `${pairKey}\n${JSON.stringify(weights)}`;
    let setting = settings.get(settingKey);
    if (setting === undefined) settings.set(settingKey, (setting = { ...pair, weights }));
    of.set(name, setting);
  }

  const bindings = [...pairs.values()];
  if (bindings.length > 1) {
    for (const b of bindingsInOrder(root)) {
      if (b.method.wholeModel?.(b.parameters)) {
        problems.add(`${b.path}: ${b.method.name} with these parameters makes passes over the whole model, so its knobs cannot vary by tensor (${perTensor.join(', ')}); give them one value${b.method.name === 'ties' || b.method.name === 'dare' ? ', or use trim: per_tensor' : ''}`);
      }
    }
  }
  return { of, bindings, perTensor };
}
