/**
 * Runs the real pipeline on small in-memory models: writes them to a temporary folder, merges
 * with a config built from options, and reads the output back as float64 arrays.
 */
import { join } from 'node:path';
import { Checkpoint } from '../src/checkpoint/checkpoint.js';
import { parseConfig } from '../src/config/load.js';
import { planMerge } from '../src/pipeline/plan.js';
import { runMerge, type MergeEvent } from '../src/pipeline/run.js';
import { writeModelFile, type Fixture } from './fixtures.js';
import { tempFolder } from './helpers.js';

export interface HarnessOptions {
  readonly method: string;
  readonly parameters?: Record<string, unknown>;
  readonly base?: Fixture;
  readonly models: readonly Fixture[];
  readonly weights?: readonly number[];
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
      ...(stats !== undefined ? { stats: `model${i}.stats.safetensors` } : {}),
    });
  }
  // JSON is YAML: the config goes through the same parser as a file would.
  const parsed = parseConfig(JSON.stringify(config), join(dir, 'config.yaml'), dir);
  const plan = await planMerge(parsed, { chunkElements: options.chunkElements });
  const events: MergeEvent[] = [];
  try {
    await runMerge(plan, { onEvent: (e) => events.push(e) });
  } finally {
    await plan.close();
  }
  return { tensors: await readAllFloats(join(dir, 'out')), events, output: join(dir, 'out'), dir };
}
