/**
 * zod issues -> messages a user can act on: the key path as written in the config, and for
 * unknown keys or values the closest valid one ("did you mean").
 */
import type { z } from 'zod';
import { didYouMean } from '../util/did-you-mean.js';

type Schema = z.ZodType;
type PathKey = PropertyKey;

/** The schema that validates the value at path (through pipes, defaults, optionals, arrays). */
function schemaAt(schema: Schema | undefined, path: readonly PathKey[]): Schema | undefined {
  let s: Schema | undefined = schema;
  for (let i = 0; ; ) {
    if (s === undefined) return undefined;
    // zod 4 keeps each schema's definition in _zod.def.
    const def = (s as unknown as { _zod: { def: Record<string, unknown> & { type: string } } })._zod.def;
    if (def.type === 'pipe') s = def.in as Schema;
    else if (def.type === 'default' || def.type === 'optional' || def.type === 'nullable' || def.type === 'prefault') s = def.innerType as Schema;
    else if (i === path.length) return s;
    else if (def.type === 'object') s = (def.shape as Record<string, Schema>)[String(path[i++])];
    else if (def.type === 'array') {
      s = def.element as Schema;
      i++;
    } else if (def.type === 'record') {
      s = def.valueType as Schema;
      i++;
    } else return undefined;
  }
}

/** Keys an object schema accepts at path. */
export function knownKeys(schema: Schema, path: readonly PathKey[]): string[] {
  const s = schemaAt(schema, path);
  if (s === undefined) return [];
  const def = (s as unknown as { _zod: { def: { type: string; shape?: Record<string, unknown> } } })._zod.def;
  return def.type === 'object' && def.shape !== undefined ? Object.keys(def.shape) : [];
}

/** models[0].path style. */
export function formatPath(prefix: string, path: readonly PathKey[]): string {
  let out = prefix;
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`;
  return out === '' ? '(top level)' : out;
}

export function formatIssues(issues: readonly z.core.$ZodIssue[], schema: Schema, prefix = ''): string[] {
  const out: string[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeys(schema, issue.path);
      for (const key of issue.keys) {
        out.push(`${formatPath(prefix, [...issue.path, key])}: unknown key${didYouMean(key, known)}${known.length > 0 ? ` (known: ${known.join(', ')})` : ''}`);
      }
      continue;
    }
    const where = formatPath(prefix, issue.path);
    if (issue.code === 'invalid_type' && issue.input === undefined) {
      out.push(`${where}: is required (${issue.expected})`);
    } else if (issue.code === 'invalid_value' && issue.values.length > 0) {
      const values = issue.values.map(String);
      const got = (issue as { input?: unknown }).input;
      out.push(`${where}: ${got === undefined ? 'missing' : JSON.stringify(got)} is not one of ${values.join(', ')}${typeof got === 'string' ? didYouMean(got, values) : ''}`);
    } else {
      out.push(`${where}: ${issue.message}`);
    }
  }
  return out;
}
