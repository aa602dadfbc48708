/**
 * The commands of `mats`, their arguments and options: the one description both the argument
 * parser and every help text are made from.
 */
import type { ParseArgsConfig } from 'node:util';

export interface OptionSpec {
  readonly name: string;
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  /** The value's placeholder in help (string options). */
  readonly value?: string;
  readonly help: string;
}

export interface CommandSpec {
  readonly name: string;
  /** Positional arguments; a trailing '?' marks an optional one. */
  readonly args: readonly { readonly name: string; readonly optional?: boolean; readonly help: string }[];
  readonly summary: string;
  /** Paragraphs after the usage line. */
  readonly details?: readonly string[];
  readonly options: readonly OptionSpec[];
}

/** Options every command takes. */
export const COMMON_OPTIONS: readonly OptionSpec[] = [
  { name: 'verbose', type: 'boolean', help: 'print the stack trace of an error' },
  { name: 'help', type: 'boolean', short: 'h', help: 'this help' },
];

const OUT: OptionSpec = { name: 'out', type: 'string', value: 'DIR', help: 'output folder (the same as OUTPUT; overrides output.path)' };
const ALLOW_NONFINITE: OptionSpec = { name: 'allow-nonfinite', type: 'boolean', help: 'merge inputs that hold NaN or Inf (with a warning) instead of refusing them (config: allow_nonfinite)' };

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'merge',
    args: [
      { name: 'CONFIG', help: 'a YAML config: mats\'s (mats help config) or mergekit\'s (a top-level merge_method; mats help mergekit)' },
      { name: 'OUTPUT', optional: true, help: 'output folder; overrides output.path (as mergekit-yaml CONFIG OUT takes it)' },
    ],
    summary: 'merge the models a config names into a checkpoint folder',
    details: [
      'Checks everything it can from the headers first (every problem at once), then merges tensor by tensor into a hidden temporary folder that is renamed to OUTPUT when complete. When the base (or the first model) is a Hugging Face folder, its config.json (torch_dtype set to the output dtype), generation_config.json and tokenizer files are copied too.',
    ],
    options: [
      OUT,
      { name: 'dry-run', type: 'boolean', help: 'print the plan (inputs, method, every tensor\'s action, estimated peak memory, output size) and write nothing' },
      { name: 'json-log', type: 'string', value: 'FILE', help: 'one JSON line per tensor: name, method, shape, dtype, seconds, chunks and the method\'s report' },
      { name: 'quiet', type: 'boolean', short: 'q', help: 'no progress; only errors and the final line' },
      { name: 'force', type: 'boolean', help: 'replace an existing output folder (only one that holds a checkpoint, never one that is or holds an input)' },
      ALLOW_NONFINITE,
    ],
  },
  {
    name: 'validate',
    args: [{ name: 'CONFIG', help: 'a mats or mergekit config' }],
    summary: 'the checks of --dry-run alone: config, inputs, statistics and output, from headers only',
    options: [OUT, ALLOW_NONFINITE],
  },
  {
    name: 'inspect',
    args: [{ name: 'PATH', help: 'a .safetensors file or a checkpoint folder (single file or sharded)' }],
    summary: 'tensors, dtypes, shapes, sizes and metadata of a checkpoint',
    options: [{ name: 'json', type: 'boolean', help: 'print one JSON object instead of the table' }],
  },
  {
    name: 'methods',
    args: [{ name: 'METHOD', optional: true, help: 'one method (default: all)' }],
    summary: 'every merging method with its knobs, their values, defaults and meanings',
    details: ['Knobs go under parameters: in a config; a knob marked "per model" may also be given under a model entry, as weight is. Numeric knobs and weights may vary by tensor (mats help config).'],
    options: [{ name: 'markdown', type: 'boolean', help: 'print the table of the merge README instead' }],
  },
  {
    name: 'convert-config',
    args: [{ name: 'FILE', help: 'a mergekit config (merge_method, models, base_model, parameters, dtype, ...)' }],
    summary: 'print the mats config a mergekit config becomes (what mats merge runs for it)',
    details: [
      'Paths are written relative to FILE\'s folder (mergekit resolves them against the working folder, and so does this conversion). A key or method with no exact mats equivalent is refused by name; notes about the conversion go to stderr.',
    ],
    options: [],
  },
  {
    name: 'help',
    args: [{ name: 'TOPIC', optional: true, help: 'a command, or: methods, config, mergekit' }],
    summary: 'help on a command or a topic',
    options: [],
  },
];

export function findCommand(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name);
}

/** node:util parseArgs options of a command (its own and the common ones). */
export function parseArgsOptions(spec: CommandSpec): NonNullable<ParseArgsConfig['options']> {
  const options: NonNullable<ParseArgsConfig['options']> = {};
  for (const o of [...spec.options, ...COMMON_OPTIONS]) options[o.name] = o.short === undefined ? { type: o.type } : { type: o.type, short: o.short };
  return options;
}
