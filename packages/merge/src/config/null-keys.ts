/**
 * `key:` with nothing after it is null in YAML, which is what a user leaves behind when they
 * comment out the last knob under `parameters:` or `output:`. A key whose value is null is read
 * as absent, at every level of the config (method parameters included): an optional mapping
 * then takes its default, a required key is reported as missing.
 */
export function withoutNullKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNullKeys);
  // Plain mappings only: a YAML !!binary (Uint8Array) or a Map stays as it is, for the schema to reject.
  if (typeof value !== 'object' || value === null || Object.getPrototypeOf(value) !== Object.prototype) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    // defineProperty: a key named __proto__ stays a key (and an unknown one), never the prototype.
    if (v !== null) Object.defineProperty(out, key, { value: withoutNullKeys(v), enumerable: true, writable: true, configurable: true });
  }
  return out;
}
