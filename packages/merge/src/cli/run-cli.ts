/**
 * The `mats` command line: merge, inspect, validate. Exit status 0 on success, 1 on a user
 * error (one "error: ..." message on stderr, the stack only with --verbose), 2 on a bug,
 * 128 + N when signal N stopped a merge (cli/exit-codes.ts).
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';

type ParseArgsOptionsConfig = NonNullable<ParseArgsConfig['options']>;
import { loadConfig } from '../config/load.js';
import { FileSystemError, UserError } from '../errors.js';
import { asFileSystemError } from '../util/file-errors.js';
import { allMethods } from '../methods/registry.js';
import { planMerge, type MergePlan } from '../pipeline/plan.js';
import { runMerge, type MergeEvent } from '../pipeline/run.js';
import { formatBytes } from '../util/format.js';
import { didYouMean } from '../util/did-you-mean.js';
import { PACKAGE_VERSION } from '../version.js';
import { describePlan } from './describe-plan.js';
import { describeFailure, STOP_SIGNALS } from './exit-codes.js';
import { inspectCheckpoint } from './inspect.js';
import { createProgress } from './progress.js';
import { isSupervisedChild, reportToSupervisor } from './supervise.js';

export interface CliIo {
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
}

const USAGE = `usage: mats <command> [options]

commands:
  mats merge CONFIG [--out DIR] [--dry-run] [--json-log FILE] [--quiet] [--force] [--allow-nonfinite]
      merge the models a YAML config names; --dry-run prints the plan and writes nothing
  mats validate CONFIG [--out DIR]
      the checks of --dry-run alone: config, inputs, statistics, output (from headers only)
  mats inspect PATH [--json]
      tensors, dtypes, shapes, sizes and metadata of a .safetensors file or a checkpoint folder

options:
  --out DIR         output folder (overrides output.path in the config)
  --dry-run         print the plan (tensors, method per tensor, memory, output size); write nothing
  --json-log FILE   one JSON line per tensor (name, method, seconds, solver report)
  --quiet           no progress, only errors and the final line
  --force           replace an existing output folder (never one that is or holds an input)
  --allow-nonfinite merge inputs that hold NaN or Inf (with a warning) instead of refusing them
  --verbose         print stack traces of errors
  --help, --version

methods:
${allMethods().map((m) => `  ${m.name.padEnd(16)} ${m.summary}`).join('\n')}

Exit status: 0 success, 1 user error (message on stderr), 2 internal error (a bug),
130 / 143 interrupted by SIGINT / SIGTERM (the partial output is removed).`;

const COMMANDS = ['merge', 'validate', 'inspect', 'help'];

/** Runs the CLI with argv (without node and script); returns the exit status. */
export async function runCli(argv: readonly string[], io: CliIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const verbose = argv.includes('--verbose');
  try {
    return await dispatch(argv, io);
  } catch (e) {
    const failure = describeFailure(e, verbose);
    io.stderr.write(failure.text);
    return failure.code;
  }
}

type OptionValues = Record<string, string | boolean | undefined>;

function parse(argv: readonly string[], options: ParseArgsOptionsConfig): { values: OptionValues; positionals: string[] } {
  try {
    const parsed = parseArgs({ args: [...argv], options: { ...options, verbose: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
    return { values: parsed.values as OptionValues, positionals: parsed.positionals };
  } catch (e) {
    throw new UserError(`${(e as Error).message.replace(/\. To specify a positional.*$/s, '')}\n${USAGE.split('\n')[0]} (mats --help for more)`);
  }
}

async function dispatch(argv: readonly string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    io.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (command === '--version') {
    io.stdout.write(`${PACKAGE_VERSION}\n`);
    return 0;
  }
  if (!COMMANDS.includes(command)) throw new UserError(`unknown command '${command}'${didYouMean(command, COMMANDS)} (commands: merge, validate, inspect)`);

  if (command === 'inspect') {
    const { values, positionals } = parse(rest, { json: { type: 'boolean' } });
    if (values.help) return help(io);
    const path = single(positionals, 'inspect', 'PATH');
    io.stdout.write(`${await inspectCheckpoint(path, values.json === true)}\n`);
    return 0;
  }

  const { values, positionals } = parse(rest, {
    out: { type: 'string' },
    'dry-run': { type: 'boolean' },
    'json-log': { type: 'string' },
    quiet: { type: 'boolean', short: 'q' },
    force: { type: 'boolean' },
    'allow-nonfinite': { type: 'boolean' },
  });
  if (values.help) return help(io);
  if (command === 'validate' && (values['dry-run'] || values['json-log'] !== undefined)) throw new UserError('validate takes only CONFIG and --out');
  const config = await loadConfig(single(positionals, command, 'CONFIG'));
  const out = values.out === undefined ? undefined : resolve(values.out as string);
  const plan = await planMerge(config, { out, force: values.force === true, allowNonFinite: values['allow-nonfinite'] === true });
  try {
    if (command === 'validate') {
      io.stdout.write(`${describePlan(plan, false)}\nvalid: nothing wrong found in the config, inputs, statistics or output\n`);
      return 0;
    }
    if (values['dry-run']) {
      io.stdout.write(`${describePlan(plan, values.quiet !== true)}\ndry run: nothing written\n`);
      return 0;
    }
    return await merge(plan, io, { quiet: values.quiet === true, jsonLog: values['json-log'] as string | undefined });
  } finally {
    await plan.close();
  }
}

async function merge(plan: MergePlan, io: CliIo, options: { quiet: boolean; jsonLog?: string }): Promise<number> {
  const progress = createProgress(io.stderr, options.quiet ? 'quiet' : io.stderr.isTTY ? 'bar' : 'lines');
  // Say where the arithmetic runs: a gpu backend may have fallen back to a CPU mode of gpu.js.
  if (!options.quiet) io.stderr.write(`backend: ${plan.backend.name} (${plan.backend.mode}), precision ${plan.config.precision}\n`);
  const controller = new AbortController();
  let log: WriteStream | undefined;
  let logError: unknown;
  const closeLog = async () => {
    if (log !== undefined) await new Promise<void>((resolve) => log!.end(resolve));
    log = undefined;
  };
  if (options.jsonLog !== undefined) {
    log = createWriteStream(options.jsonLog);
    await new Promise<void>((resolve, reject) => {
      log!.once('open', () => resolve());
      log!.once('error', (e) => reject(asFileSystemError(e, options.jsonLog, 'write the --json-log file')));
    });
    // A write that fails later (a full disk) stops the merge with the same one-line error.
    log.on('error', (e) => {
      logError = asFileSystemError(e, options.jsonLog, 'write the --json-log file');
      controller.abort(logError);
    });
  }
  // A supervised child keeps the default action of these signals: its parent cleans up (supervise.ts).
  // In process, a signal aborts the merge between jobs (a second one ends the process at once).
  const onSignal = (signal: NodeJS.Signals) => controller.abort(signal);
  const listening = !isSupervisedChild();
  if (listening) for (const s of STOP_SIGNALS) process.once(s, onSignal);
  // The supervisor was killed: stop at the next await rather than merge unwatched.
  const onDisconnect = () => controller.abort('SIGHUP');
  if (!listening) process.once('disconnect', onDisconnect);
  const onEvent = (e: MergeEvent) => {
    if (e.type === 'output') reportToSupervisor({ type: 'output', temporaryFolder: e.temporaryFolder });
    progress.onEvent(e);
    if (log !== undefined && e.type === 'tensor') {
      const { type: _type, ...line } = e;
      const { report, ...rest } = line;
      log.write(`${JSON.stringify({ ...rest, ...report })}\n`);
    }
  };
  try {
    const summary = await runMerge(plan, { onEvent, signal: controller.signal });
    progress.stop();
    await closeLog();
    // The log failed after the last job: the checkpoint is whole, the log is not.
    if (logError instanceof FileSystemError) throw new FileSystemError(logError.file, logError.code, `${logError.message}; the merge itself finished: ${summary.outputPath} is complete`);
    const rate = summary.inputBytesRead / 1e9 / Math.max(summary.seconds, 1e-9);
    io.stdout.write(
      `wrote ${summary.outputPath}: ${summary.merged} tensors merged, ${summary.copied} copied, ${formatBytes(summary.outputBytes)} ` +
        `in ${summary.seconds.toFixed(2)} s (${summary.passes} pass${summary.passes === 1 ? '' : 'es'}, ${rate.toFixed(2)} GB/s read)\n`,
    );
    return 0;
  } finally {
    progress.stop();
    for (const s of STOP_SIGNALS) process.off(s, onSignal);
    process.off('disconnect', onDisconnect);
    await closeLog();
  }
}

function single(positionals: string[], command: string, what: string): string {
  if (positionals.length !== 1) throw new UserError(`${command} takes one ${what}${positionals.length > 1 ? `, got ${positionals.length}: ${positionals.join(' ')}` : ''} (mats --help)`);
  return positionals[0];
}

function help(io: CliIo): number {
  io.stdout.write(`${USAGE}\n`);
  return 0;
}
