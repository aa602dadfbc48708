/**
 * The `mats` command line: merge, validate, inspect, methods, convert-config, help. Exit status
 * 0 on success, 1 on a user error (one "error: ..." message on stderr, the stack only with
 * --verbose), 2 on a bug, 128 + N when signal N stopped a merge (cli/exit-codes.ts).
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.js';
import { FileSystemError, UserError } from '../errors.js';
import { allMethods, findMethod, methodNames } from '../methods/registry.js';
import { planMerge, type MergePlan } from '../pipeline/plan.js';
import { runMerge, type MergeEvent } from '../pipeline/run.js';
import { didYouMean } from '../util/did-you-mean.js';
import { asFileSystemError } from '../util/file-errors.js';
import { formatBytes, formatRate } from '../util/format.js';
import { PACKAGE_VERSION } from '../version.js';
import { COMMANDS, findCommand, parseArgsOptions, type CommandSpec } from './commands.js';
import { convertConfigFile } from './convert-config.js';
import { methodsMarkdown } from './describe-methods.js';
import { describePlan } from './describe-plan.js';
import { describeFailure, STOP_SIGNALS } from './exit-codes.js';
import { commandHelp, configHelp, generalHelp, mergekitHelp, methodsText } from './help.js';
import { inspectCheckpoint } from './inspect.js';
import { createProgress } from './progress.js';
import { isSupervisedChild, reportToSupervisor } from './supervise.js';

export interface CliIo {
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
}

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

function parse(argv: readonly string[], spec: CommandSpec): { values: OptionValues; positionals: string[] } {
  try {
    const parsed = parseArgs({ args: [...argv], options: parseArgsOptions(spec), allowPositionals: true, strict: true });
    return { values: parsed.values as OptionValues, positionals: parsed.positionals };
  } catch (e) {
    throw new UserError(`${(e as Error).message.replace(/\. To specify a positional.*$/s, '')}\nusage: mats ${spec.name} ... (mats ${spec.name} --help)`);
  }
}

/** The positionals a command takes, checked against its spec. */
function positionalArgs(spec: CommandSpec, positionals: string[]): string[] {
  const required = spec.args.filter((a) => !a.optional).length;
  if (positionals.length < required || positionals.length > spec.args.length) {
    const wanted = spec.args.map((a) => (a.optional ? `[${a.name}]` : a.name)).join(' ');
    const got = positionals.length === 0 ? 'nothing' : `${positionals.length}: ${positionals.join(' ')}`;
    throw new UserError(`${spec.name} takes ${wanted || 'no arguments'}, got ${got} (mats ${spec.name} --help)`);
  }
  return positionals;
}

const write = (io: CliIo, text: string) => {
  io.stdout.write(`${text}\n`);
  return 0;
};

async function dispatch(argv: readonly string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h') return write(io, generalHelp());
  if (command === '--version') return write(io, PACKAGE_VERSION);
  const spec = findCommand(command);
  const names = COMMANDS.map((c) => c.name);
  if (spec === undefined) throw new UserError(`unknown command '${command}'${didYouMean(command, names)} (commands: ${names.join(', ')}; mats --help)`);
  const { values, positionals } = parse(rest, spec);
  if (values.help) return write(io, commandHelp(spec));
  const args = positionalArgs(spec, positionals);

  switch (spec.name) {
    case 'help':
      return write(io, helpTopic(args[0]));
    case 'inspect':
      return write(io, await inspectCheckpoint(args[0], values.json === true));
    case 'methods': {
      const methods = args[0] === undefined ? allMethods() : [methodNamed(args[0])];
      return write(io, values.markdown ? methodsMarkdown(methods) : methodsText(methods));
    }
    case 'convert-config': {
      const { text, notes } = await convertConfigFile(args[0]);
      for (const note of notes) io.stderr.write(`note: ${note}\n`);
      io.stdout.write(text);
      return 0;
    }
  }

  // merge and validate
  if (values.out !== undefined && args[1] !== undefined && resolve(values.out as string) !== resolve(args[1])) {
    throw new UserError(`two output folders: OUTPUT ${args[1]} and --out ${values.out as string}; give one`);
  }
  const config = await loadConfig(args[0]);
  const outArg = (values.out as string | undefined) ?? args[1];
  const out = outArg === undefined ? undefined : resolve(outArg);
  if (values.quiet !== true) for (const note of config.notes) io.stderr.write(`note: ${note}\n`);
  const plan = await planMerge(config, { out, force: values.force === true, allowNonFinite: values['allow-nonfinite'] === true });
  try {
    if (spec.name === 'validate') {
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

function methodNamed(name: string) {
  const method = findMethod(name);
  if (method === undefined) throw new UserError(`unknown method '${name}'${didYouMean(name, methodNames())} (methods: ${methodNames().join(', ')})`);
  return method;
}

/** `mats help TOPIC`: a command's help, or methods, config, mergekit. */
function helpTopic(topic: string | undefined): string {
  if (topic === undefined) return generalHelp();
  const spec = findCommand(topic);
  if (spec !== undefined && topic !== 'methods') return commandHelp(spec);
  if (topic === 'methods') return methodsText();
  if (topic === 'config') return configHelp();
  if (topic === 'mergekit') return mergekitHelp();
  const topics = [...COMMANDS.map((c) => c.name), 'config', 'mergekit'];
  throw new UserError(`no help on '${topic}'${didYouMean(topic, topics)} (topics: ${topics.join(', ')})`);
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
    io.stdout.write(
      `wrote ${summary.outputPath}: ${summary.merged} tensors merged, ${summary.copied} copied, ${formatBytes(summary.outputBytes)} ` +
        `in ${summary.seconds.toFixed(2)} s (${summary.passes} pass${summary.passes === 1 ? '' : 'es'}, ${formatBytes(summary.inputBytesRead)} read at ${formatRate(summary.inputBytesRead, summary.seconds)})\n`,
    );
    return 0;
  } finally {
    progress.stop();
    for (const s of STOP_SIGNALS) process.off(s, onSignal);
    process.off('disconnect', onDisconnect);
    await closeLog();
  }
}
