/**
 * `key:` with nothing after it is null in YAML, which is what a user leaves behind when they
 * comment out the last knob under `parameters:` or `output:`. A key whose value is null is read
 * as absent, at every level of the config (method parameters included): an optional mapping
 * then takes its default, a required key is reported as missing.
 */
export function withoutNullKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNullKeys);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) if (v !== null) out[key] = withoutNullKeys(v);
  return out;
}
