/**
 * Every method's knobs, read from the same zod schemas the config loader validates with (as
 * JSON Schema, input side): `mats methods` and the merge README's knob table are generated
 * here, so they cannot drift from what a config accepts.
 */
import { z } from 'zod';
import { allMethods, type AnyMethod } from '../methods/registry.js';
import { bindMethod, requiresBase } from '../pipeline/bind.js';
import { wrapText } from '../util/format.js';

export interface KnobDoc {
  readonly name: string;
  /** The values it takes: `a | b`, `number in (0, 1]`, `true | false`. */
  readonly values: string;
  /** The default as a config would write it; '' when there is none. */
  readonly default: string;
  /** Whether default is a sentence (it depends on other knobs) rather than a value. */
  readonly defaultIsText: boolean;
  readonly meaning: string;
  /** Whether a model entry may set it for itself (MergeMethod.perModel). */
  readonly perModel: boolean;
}

interface JsonSchemaNode {
  type?: string | string[];
  enum?: unknown[];
  default?: unknown;
  defaultText?: string;
  description?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  properties?: Record<string, JsonSchemaNode>;
  items?: JsonSchemaNode;
  anyOf?: JsonSchemaNode[];
}

/** The JSON Schema of what a config may write (the input side of transforms and defaults). */
export function inputSchema(schema: z.ZodType): JsonSchemaNode {
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchemaNode;
}

/** `number in (0, 1]`, `integer >= 1`, `a | b`, ... */
export function valuesText(node: JsonSchemaNode): string {
  if (node.enum !== undefined) return node.enum.map(String).join(' | ');
  const type = Array.isArray(node.type) ? node.type.join(' or ') : node.type;
  if (type === 'boolean') return 'true | false';
  if (type === 'number' || type === 'integer') {
    const lo = node.exclusiveMinimum !== undefined ? `(${node.exclusiveMinimum}` : node.minimum !== undefined ? `[${node.minimum}` : undefined;
    const max = node.maximum !== undefined && node.maximum < Number.MAX_SAFE_INTEGER ? node.maximum : undefined;
    const hi = node.exclusiveMaximum !== undefined ? `${node.exclusiveMaximum})` : max !== undefined ? `${max}]` : undefined;
    if (lo !== undefined && hi !== undefined) return `${type} in ${lo}, ${hi}`;
    if (lo !== undefined) return `${type} ${lo.startsWith('(') ? '>' : '>='} ${lo.slice(1)}`;
    if (hi !== undefined) return `${type} ${hi.endsWith(')') ? '<' : '<='} ${hi.slice(0, -1)}`;
    return type;
  }
  if (type === 'object') return node.properties !== undefined ? `{${Object.keys(node.properties).join(', ')}}` : 'mapping';
  if (type === 'array') return node.items === undefined ? 'list' : `list of ${valuesText(node.items).replace(/^number$/, 'numbers')}`;
  if (node.anyOf !== undefined) return node.anyOf.map(valuesText).join(' | ');
  return type ?? 'any';
}

export function defaultText(node: JsonSchemaNode): string {
  if (node.defaultText !== undefined) return node.defaultText;
  if (node.default === undefined) return '';
  return typeof node.default === 'string' ? node.default : JSON.stringify(node.default);
}

export function knobDocs(method: AnyMethod): KnobDoc[] {
  const properties = inputSchema(method.parameters).properties ?? {};
  const perModel = method.perModel ?? [];
  return Object.entries(properties).map(([name, node]) => ({
    name,
    values: valuesText(node),
    default: defaultText(node),
    defaultIsText: node.defaultText !== undefined,
    meaning: node.description ?? '',
    perModel: perModel.includes(name),
  }));
}

/** `mats methods`: every method (or the named ones) with its knobs, defaults and meanings. */
export function methodsText(methods: readonly AnyMethod[] = allMethods()): string {
  const blocks = methods.map((m) => {
    const lines = [`${m.name}: ${m.summary}${needsBase(m) ? ' (needs base)' : ''}`];
    const knobs = knobDocs(m);
    if (knobs.length === 0) lines.push('  (no knobs)');
    for (const k of knobs) {
      const facts = [k.values, k.default === '' ? 'no default' : `default ${k.default}`, ...(k.perModel ? ['per model'] : [])];
      lines.push(`  ${k.name}  (${facts.join('; ')})`);
      if (k.meaning !== '') lines.push(wrapText(k.meaning, 6));
    }
    return lines.join('\n');
  });
  return blocks.join('\n\n');
}

/** Whether the method, with every default (an empty `parameters:`), needs a base: its own or a nested method's. */
function needsBase(method: AnyMethod): boolean {
  const binding = bindMethod({ method: method.name, parameters: {} }, 'parameters', []);
  return binding !== undefined && requiresBase(binding);
}

const cell = (text: string) => text.replace(/\|/g, '\\|');

/** The merge README's knob table (checked against it by a test). */
export function methodsMarkdown(methods: readonly AnyMethod[] = allMethods()): string {
  const rows = ['| method | knob | values | default | meaning |', '|---|---|---|---|---|'];
  for (const m of methods) {
    rows.push(`| \`${m.name}\` | | | | ${cell(m.summary)}${needsBase(m) ? ' (needs `base`)' : ''} |`);
    for (const k of knobDocs(m)) {
      rows.push(`| | \`${k.name}\`${k.perModel ? ' (per model)' : ''} | ${cell(k.values)} | ${k.default === '' || k.defaultIsText ? cell(k.default) : `\`${cell(k.default)}\``} | ${cell(k.meaning)} |`);
    }
  }
  return rows.join('\n');
}
