import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { runCli } from '@mats/merge';
import { stringify } from 'yaml';

/** One line of `mats merge --json-log`: a tensor's report. */
export interface MergeLogLine {
  readonly [key: string]: unknown;
  readonly name?: string;
  readonly method?: string;
  readonly seconds?: number;
  readonly iterations?: number;
  readonly status?: string;
  readonly initialResidualNorm?: number;
  readonly residualNorm?: number;
}

export interface MergeRequest {
  /** A file-name-safe label: the config is configs/<label>.yaml. */
  readonly label: string;
  readonly method: string;
  readonly parameters: Readonly<Record<string, unknown>>;
  /**
   * Whether the config names each model's statistics file: false, true (the runner's default
   * set) or the name of one of the runner's statistics sets ('empirical').
   */
  readonly statistics: boolean | string;
}

export interface MergeOutcome {
  /** The merged checkpoint folder. */
  readonly folder: string;
  readonly configPath: string;
  /** Wall time of the merge; for a cached one, the sum of its tensors' times in its log. */
  readonly seconds: number;
  readonly log: readonly MergeLogLine[];
  /** True when an identical merge (same config, inputs and merge code) was reused. */
  readonly cached: boolean;
}

export interface MergeRunnerOptions {
  /** Where configs are written (the demo's output folder): people can read and rerun them. */
  readonly configDir: string;
  /** Where merged checkpoints are kept, by content key. */
  readonly cacheDir: string;
  readonly base: string;
  readonly models: readonly string[];
  /** Statistics files per model, by set name; the first set is the default (statistics: true). */
  readonly statistics: Readonly<Record<string, readonly string[]>>;
  /** Precision the merge computes in (the config's precision key). */
  readonly precision: 'float32' | 'float64';
  /** Identifies the inputs (the zoo's key): part of the cache key. */
  readonly inputsKey: string;
  /**
   * How to run the CLI: 'in-process' calls runCli, the function the `mats` bin's main.js calls,
   * with the same arguments; 'spawn' runs the built bin in a child node process.
   */
  readonly mode: 'in-process' | 'spawn';
}

/** Path of the built `mats` bin (packages/merge/dist/cli/main.js). */
export function matsBinPath(): string {
  return fileURLToPath(new URL('../../../packages/merge/dist/cli/main.js', import.meta.url));
}

/**
 * Runs merges the way a user does: writes a YAML config and calls `mats merge CONFIG
 * --json-log FILE --quiet --force`. Results are cached by a hash of the config, the input files
 * (size and modification time) and the merge code, so a second demo run reuses them and any
 * change to one of them merges again.
 */
export class MergeRunner {
  private codeHash: string | undefined;

  constructor(private readonly options: MergeRunnerOptions) {}

  async merge(request: MergeRequest): Promise<MergeOutcome> {
    const { cacheDir } = this.options;
    const { path: configPath, config } = await this.writeConfig(request, this.options.configDir);

    const stats = this.statisticsOf(request);
    const inputs = [this.options.base, ...this.options.models, ...(stats ?? [])];
    const key = createHash('sha256')
      .update(JSON.stringify({ config, inputs: this.options.inputsKey, files: await fileStamps(inputs), code: await this.mergeCodeHash() }))
      .digest('hex')
      .slice(0, 16);
    const folder = join(cacheDir, key);
    const logPath = `${folder}.jsonl`;
    if (existsSync(join(folder, 'model.safetensors')) && existsSync(logPath)) {
      const log = parseLog(await readFile(logPath, 'utf8'));
      // The time the merge took when it ran: the sum of its tensors' times in the log.
      const seconds = log.reduce((sum, line) => sum + (typeof line.seconds === 'number' ? line.seconds : 0), 0);
      return { folder, configPath, seconds, log, cached: true };
    }
    await mkdir(cacheDir, { recursive: true });
    const partialLog = `${logPath}.partial`;
    const args = ['merge', configPath, '--out', folder, '--json-log', partialLog, '--quiet', '--force'];
    const start = performance.now();
    const { status, stderr } = this.options.mode === 'spawn' ? await runBin(args) : await runInProcess(args);
    const seconds = (performance.now() - start) / 1000;
    if (status !== 0) {
      await rm(partialLog, { force: true });
      throw new Error(`mats merge ${configPath} exited with status ${status}:\n${stderr.trim()}`);
    }
    await rename(partialLog, logPath);
    return { folder, configPath, seconds, log: parseLog(await readFile(logPath, 'utf8')), cached: false };
  }

  /**
   * Writes the request's config as `<dir>/<label>.yaml`, paths relative to it (the demo keeps
   * the chosen config of every row this way, ready to rerun by hand).
   */
  async writeConfig(request: MergeRequest, dir: string): Promise<{ path: string; config: Record<string, unknown> }> {
    await mkdir(dir, { recursive: true });
    const path = join(dir, `${request.label}.yaml`);
    const stats = this.statisticsOf(request);
    const config = {
      method: request.method,
      base: relative(dir, this.options.base),
      models: this.options.models.map((path, i) => (stats !== undefined ? { path: relative(dir, path), stats: relative(dir, stats[i]) } : { path: relative(dir, path) })),
      parameters: request.parameters,
      precision: this.options.precision,
      output: { dtype: 'float32' },
    };
    const header = `# ${request.label}: written by the MaTS-TS demo (npm run demo); rerun with\n#   npx mats merge ${relative(process.cwd(), path)} --out DIR\n`;
    await writeFile(path, header + stringify(config));
    return { path, config };
  }

  /** The statistics files a request names, or undefined when it names none. */
  private statisticsOf(request: MergeRequest): readonly string[] | undefined {
    if (request.statistics === false) return undefined;
    const sets = this.options.statistics;
    const name = request.statistics === true ? Object.keys(sets)[0] : request.statistics;
    const files = sets[name];
    if (files === undefined) throw new RangeError(`merge ${request.label}: no statistics set '${name}' (sets: ${Object.keys(sets).join(', ')})`);
    return files;
  }

  /** A hash of the merge package's code as it will run (dist, or src under vitest). */
  private async mergeCodeHash(): Promise<string> {
    if (this.codeHash === undefined) {
      const hash = createHash('sha256');
      for (const entry of ['@mats/merge', '@mats/core', '@mats/backend-cpu']) {
        const root = dirname(fileURLToPath(import.meta.resolve(entry)));
        for (const file of await listFiles(root)) hash.update(file).update(await readFile(file));
      }
      this.codeHash = hash.digest('hex');
    }
    return this.codeHash;
  }
}

/** Size and modification time of each input: a rewritten checkpoint or statistics file is a new input. */
async function fileStamps(paths: readonly string[]): Promise<string[]> {
  return Promise.all(
    paths.map(async (path) => {
      const s = await stat(path);
      return `${s.size}:${s.mtimeMs}`;
    }),
  );
}

function parseLog(text: string): MergeLogLine[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as MergeLogLine);
}

async function listFiles(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && /\.(js|ts)$/.test(e.name))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/** A sink that keeps what is written (the CLI's stdout and stderr). */
class Collector extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

async function runInProcess(args: string[]): Promise<{ status: number; stderr: string }> {
  const stdout = new Collector();
  const stderr = new Collector();
  const status = await runCli(args, { stdout: stdout as unknown as NodeJS.WriteStream, stderr: stderr as unknown as NodeJS.WriteStream });
  return { status, stderr: stderr.text };
}

function runBin(args: string[]): Promise<{ status: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [matsBinPath(), ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ status: code ?? 2, stderr }));
  });
}
