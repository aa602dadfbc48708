/** The help texts of `mats`, made from the command specs, the config schema and the registry. */
import { MERGEKIT_METHODS } from '../config/mergekit.js';
import { configSchema } from '../config/schema.js';
import { defaultText, inputSchema, methodsText, valuesText } from './describe-methods.js';
import { allMethods } from '../methods/registry.js';
import { wrapText as wrap } from '../util/format.js';
import { COMMANDS, COMMON_OPTIONS, type CommandSpec, type OptionSpec } from './commands.js';

function synopsis(spec: CommandSpec): string {
  return [spec.name, ...spec.args.map((a) => (a.optional ? `[${a.name}]` : a.name))].join(' ');
}

/** `NAME  help` rows with the help column aligned and wrapped. */
function table(rows: readonly (readonly [string, string])[]): string {
  const width = Math.min(28, Math.max(...rows.map(([left]) => left.length)) + 2);
  return rows.map(([left, help]) => (left.length + 2 > width ? `  ${left}\n${wrap(help, width + 2)}` : `  ${left.padEnd(width)}${wrap(help, width + 2).slice(width + 2)}`)).join('\n');
}

const optionLeft = (o: OptionSpec) => `--${o.name}${o.value !== undefined ? ` ${o.value}` : ''}${o.short !== undefined ? `, -${o.short}` : ''}`;

export function generalHelp(): string {
  return [
    'usage: mats <command> [arguments] [options]',
    '',
    'commands:',
    table(COMMANDS.map((c) => [synopsis(c), c.summary])),
    '',
    wrap(`methods: ${allMethods().map((m) => m.name).join(', ')}; mats methods lists their knobs.`, 2, 0),
    '',
    'mats COMMAND --help: its arguments and options. mats help config: the config keys.',
    'mats help mergekit: the mergekit configs mats runs as they are.',
    '--version prints the version.',
    '',
    'Exit status: 0 success, 1 user error (one message on stderr, starting with "error:"), 2 internal error',
    '(a bug), 130 / 143 interrupted by SIGINT / SIGTERM (the partial output is removed).',
  ].join('\n');
}

export function commandHelp(spec: CommandSpec): string {
  const lines = [`usage: mats ${synopsis(spec)}${spec.options.length > 0 ? ' [options]' : ''}`, '', wrap(`${spec.summary[0].toUpperCase()}${spec.summary.slice(1)}.`, 0)];
  for (const paragraph of spec.details ?? []) lines.push('', wrap(paragraph, 0));
  if (spec.args.length > 0) lines.push('', 'arguments:', table(spec.args.map((a) => [a.name, a.optional ? `${a.help} (optional)` : a.help])));
  lines.push('', 'options:', table([...spec.options, ...COMMON_OPTIONS].map((o) => [optionLeft(o), o.help])));
  return lines.join('\n');
}

interface Node {
  description?: string;
  properties?: Record<string, Node>;
  items?: Node;
  required?: string[];
}

/** `mats help config`: every config key, from the schema the loader validates with. */
export function configHelp(): string {
  const root = inputSchema(configSchema) as Node;
  const rows = (node: Node, prefix: string): [string, string][] =>
    Object.entries(node.properties ?? {}).flatMap(([key, child]) => {
      const facts = [valuesText(child), defaultText(child) !== '' ? `default ${defaultText(child)}` : node.required?.includes(key) ? 'required' : ''].filter((f) => f !== '' && f !== 'any' && f !== 'mapping' && f !== 'list');
      const row: [string, string] = [`${prefix}${key}`, `${child.description ?? ''}${facts.length > 0 ? ` (${facts.join('; ')})` : ''}`];
      const nested = child.items?.properties !== undefined ? rows(child.items, `${prefix}${key}[].`) : child.properties !== undefined ? rows(child, `${prefix}${key}.`) : [];
      return [row, ...nested];
    });
  return [
    'A mats config (YAML). Relative paths are relative to the config file.',
    '',
    table(rows(root, '')),
    '',
    wrap('Per-model knobs: a knob marked "per model" in mats methods may be given under a model entry (models: [{path: a, density: 0.3}]); the value under parameters: is the default of every model.', 0),
    '',
    wrap('Per-tensor values: a numeric knob (under parameters: or a model) and a model\'s weight may be a list of numbers, a gradient over the layers (the value at layer i of L is interpolated at t = i / (L - 1); tensors outside the numbered layers take t = 0), or a list of {filter, value} where the first entry whose filter is part of the tensor\'s name gives the value (no filter: every tensor). This is how mergekit writes them.', 0),
    '',
    'mats methods: every method\'s knobs.',
  ].join('\n');
}

/** `mats help mergekit`: which mergekit methods run and what they become. */
export function mergekitHelp(): string {
  const rows = Object.entries(MERGEKIT_METHODS).map(([name, m]): [string, string] => [
    name,
    m.kind === 'linear'
      ? 'average (normalize: true, its default; weights that sum to 1 for normalize: false)'
      : [m.method, ...Object.entries(m.fixed).map(([k, v]) => `${k}: ${String(v)}`)].join(', ').replace(',', ' with'),
  ]);
  return [
    wrap('mats merge runs a mergekit config as it is (a YAML file with a top-level merge_method): `mats merge config.yml OUT` as `mergekit-yaml config.yml OUT`. Keys: merge_method, models: [{model, parameters}], base_model, parameters, dtype, out_dtype, tokenizer_source; per-model weight, density and gamma, and per-tensor values (gradient lists and filters) where mergekit takes them. mergekit\'s defaults are kept (linear and ties normalise the weights, task_arithmetic and dare do not; density 1). A key or method with no exact mats equivalent is refused by name. Model paths are local (relative to the working folder, as mergekit reads them). `mats convert-config FILE` prints the mats config it becomes.', 0),
    '',
    'mergekit method -> mats method and the knobs it fixes:',
    table(rows),
  ].join('\n');
}

export { methodsText };
