/**
 * Runs the real pipeline on small in-memory models: writes them to a temporary folder, merges
 * with a config built from options, and reads the output back as float64 arrays.
 */
import { join } from 'node:path';
import { Checkpoint } from '../checkpoint/checkpoint.js';
import { loadConfig, parseConfig, type ParseOptions } from '../config/load.js';
import type { TensorValue } from '../config/tensor-values.js';
import { planMerge } from '../pipeline/plan.js';
import { runMerge, type MergeEvent } from '../pipeline/run.js';
import { writeModelFile, type Fixture } from './fixtures.js';
import { tempFolder } from './temp-files.js';

export interface HarnessOptions {
  readonly method: string;
  readonly parameters?: Record<string, unknown>;
  readonly base?: Fixture;
  readonly models: readonly Fixture[];
  /** Each model's weight: a number or a per-tensor value (a layer gradient, a filtered list). */
  readonly weights?: readonly TensorValue[];
  /** Each model's own knobs (the method's perModel ones: density, ...). */
  readonly modelKnobs?: readonly (Record<string, unknown> | undefined)[];
  /** Statistics file of each model (keys `<param>::<kind>`); undefined: none. */
  readonly stats?: readonly (Fixture | undefined)[];
  readonly seed?: number;
  readonly precision?: 'float32' | 'float64';
  readonly outputDtype?: string;
  readonly chunkElements?: number;
  /** The folder to write inputs and output to (default: a fresh temporary one). */
  readonly dir?: string;
  /** Extra top-level config keys. */
  readonly extra?: Record<string, unknown>;
}

export interface HarnessResult {
  readonly tensors: Map<string, Float64Array>;
  readonly events: MergeEvent[];
  readonly output: string;
  readonly dir: string;
}

/** Float tensors of a fixture as float64 arrays. */
export function floatsOf(model: Fixture): Map<string, Float64Array> {
  const out = new Map<string, Float64Array>();
  for (const [name, t] of Object.entries(model)) if (!(t.data instanceof Uint8Array)) out.set(name, Float64Array.from(t.data));
  return out;
}

export async function readAllFloats(path: string): Promise<Map<string, Float64Array>> {
  const checkpoint = await Checkpoint.open(path);
  try {
    const out = new Map<string, Float64Array>();
    for (const name of checkpoint.names()) {
      const t = checkpoint.get(name)!;
      if (['F64', 'F32', 'F16', 'BF16'].includes(t.dtype)) out.set(name, (await checkpoint.readFloats(name, 'float64')) as Float64Array);
    }
    return out;
  } finally {
    await checkpoint.close();
  }
}

export async function mergeInMemory(options: HarnessOptions): Promise<HarnessResult> {
  const dir = options.dir ?? (await tempFolder());
  const config: Record<string, unknown> = {
    method: options.method,
    models: [] as unknown[],
    parameters: options.parameters ?? {},
    output: { path: 'out', dtype: options.outputDtype ?? 'float64' },
    precision: options.precision ?? 'float64',
    seed: options.seed ?? 0,
    ...options.extra,
  };
  if (options.base !== undefined) {
    await writeModelFile(join(dir, 'base.safetensors'), options.base);
    config.base = 'base.safetensors';
  }
  for (let i = 0; i < options.models.length; i++) {
    await writeModelFile(join(dir, `model${i}.safetensors`), options.models[i]);
    const stats = options.stats?.[i];
    if (stats !== undefined) await writeModelFile(join(dir, `model${i}.stats.safetensors`), stats);
    (config.models as unknown[]).push({
      path: `model${i}.safetensors`,
      ...(options.weights !== undefined ? { weight: options.weights[i] } : {}),
      ...(options.modelKnobs?.[i] ?? {}),
      ...(stats !== undefined ? { stats: `model${i}.stats.safetensors` } : {}),
    });
  }
  // JSON is YAML: the config goes through the same parser as a file would.
  const parsed = parseConfig(JSON.stringify(config), join(dir, 'config.yaml'), dir);
  const { events } = await planAndRun(parsed, undefined, options.chunkElements);
  return { tensors: await readAllFloats(join(dir, 'out')), events, output: join(dir, 'out'), dir };
}

async function planAndRun(config: Awaited<ReturnType<typeof loadConfig>>, out: string | undefined, chunkElements?: number): Promise<{ events: MergeEvent[] }> {
  const plan = await planMerge(config, { out, chunkElements });
  const events: MergeEvent[] = [];
  try {
    await runMerge(plan, { onEvent: (e) => events.push(e) });
  } finally {
    await plan.close();
  }
  return { events };
}

/**
 * Merges what a config file says (a native or a mergekit config) into `out` and reads the
 * output back. options.cwd: the working folder a mergekit config's relative paths resolve against.
 */
export async function mergeConfigFile(file: string, out: string, options: ParseOptions = {}): Promise<HarnessResult> {
  const { events } = await planAndRun(await loadConfig(file, options), out);
  return { tensors: await readAllFloats(out), events, output: out, dir: out };
}
