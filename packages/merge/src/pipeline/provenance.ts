/**
 * The output's metadata: method, parameters, inputs, package version and the config itself.
 * Inputs are named relative to the config's folder, never by absolute path: a merged model
 * does not carry the layout of the machine that merged it.
 */
import { isAbsolute, relative } from 'node:path';
import { stringify } from 'yaml';
import type { MergeConfig } from '../config/load.js';
import { PACKAGE_VERSION } from '../version.js';
import type { MethodBinding } from './bind.js';
import type { TensorSettings } from './tensor-settings.js';

/** Keys whose string values are paths, in native and mergekit configs. */
const PATH_KEYS = new Set(['path', 'stats', 'base', 'tokenizer_source', 'model', 'base_model']);

/** path relative to folder ('.' for the folder itself); a path on another root stays as it is only if relative() cannot help. */
export function relativeTo(folder: string, path: string): string {
  const rel = relative(folder, path);
  return rel === '' ? '.' : rel;
}

/** A copy of a parsed config with every absolute path value made relative to folder; changed: whether any was. */
function relativised(value: unknown, folder: string, key?: string): { value: unknown; changed: boolean } {
  if (typeof value === 'string') return key !== undefined && PATH_KEYS.has(key) && isAbsolute(value) ? { value: relativeTo(folder, value), changed: true } : { value, changed: false };
  if (Array.isArray(value)) {
    const items = value.map((v) => relativised(v, folder, key));
    return { value: items.map((i) => i.value), changed: items.some((i) => i.changed) };
  }
  if (typeof value === 'object' && value !== null) {
    let changed = false;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const r = relativised(v, folder, k);
      out[k] = r.value;
      changed ||= r.changed;
    }
    return { value: out, changed };
  }
  return { value, changed: false };
}

/** The config text for the metadata: as given, or rendered with relative paths if it names any by absolute path. */
function configText(parsed: unknown, text: string, folder: string): string {
  const r = relativised(parsed, folder);
  return r.changed ? stringify(r.value) : text;
}

export function provenance(config: MergeConfig, binding: MethodBinding, settings: TensorSettings): Record<string, string> {
  const at = (p: string) => relativeTo(config.baseDir, p);
  const describe = (b: MethodBinding): unknown => ({ method: b.method.name, parameters: b.parameters, ...(Object.keys(b.nested).length > 0 ? { nested: Object.fromEntries(Object.entries(b.nested).map(([k, v]) => [k, describe(v)])) } : {}) });
  const perTensor = Object.fromEntries(Object.entries(config.parameters).filter(([, v]) => Array.isArray(v)));
  const metadata: Record<string, string> = {
    format: 'pt',
    mats_version: PACKAGE_VERSION,
    mats_method: binding.method.name,
    mats_parameters: JSON.stringify({ ...(describe(binding) as object), ...(settings.perTensor.length > 0 ? { per_tensor: perTensor } : {}) }),
    mats_inputs: JSON.stringify({
      base: config.base === undefined ? null : at(config.base),
      models: config.models.map((m) => ({ path: at(m.path), weight: m.weight, stats: m.stats === undefined ? null : at(m.stats), ...m.parameters })),
      ...(config.output.tokenizerSource !== undefined ? { tokenizer_source: at(config.output.tokenizerSource) } : {}),
    }),
    mats_settings: JSON.stringify({ precision: config.precision, backend: config.backend, seed: config.seed, output_dtype: config.output.dtype }),
  };
  if (config.format === 'mergekit') {
    metadata.mats_config = stringify(relativised(config.raw, config.baseDir).value);
    metadata.mergekit_config = configText(config.given, config.text, config.baseDir);
  } else {
    metadata.mats_config = configText(config.given, config.text, config.baseDir);
  }
  return metadata;
}
