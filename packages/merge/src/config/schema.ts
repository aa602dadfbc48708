/**
 * The merge config (YAML). Keys (more may be added):
 *   method; base; models: [{path, stats?, weight?, <per-model knobs>}]; parameters: {method knobs};
 *   output: {path, dtype, shard_size, tokenizer_source}; backend: cpu | gpu; precision; seed; aliases;
 *   allow_nonfinite.
 * Method parameters are validated by the method's own schema (methods/*.ts); numeric knobs and
 * weights may vary by tensor (tensor-values.ts).
 */
import { z } from 'zod';
import { numbersIn, tensorValueSchema } from './tensor-values.js';

export const OUTPUT_DTYPES = ['same', 'float32', 'float16', 'bfloat16', 'float64'] as const;
export type OutputDType = (typeof OUTPUT_DTYPES)[number];

const SIZE_UNITS: Record<string, number> = { '': 1, B: 1, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12, KIB: 2 ** 10, MIB: 2 ** 20, GIB: 2 ** 30, TIB: 2 ** 40 };

/** "5GB", "500MiB", 1000000 -> bytes (transformers' max_shard_size convention: GB = 10^9). */
export function parseByteSize(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value > 0 ? value : undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(value);
  if (m === null) return undefined;
  const unit = SIZE_UNITS[m[2].toUpperCase()];
  if (unit === undefined) return undefined;
  const bytes = Math.floor(Number(m[1]) * unit);
  return bytes > 0 ? bytes : undefined;
}

const byteSize = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const bytes = parseByteSize(v);
  if (bytes === undefined) {
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(v)} is not a size: write bytes (1000000) or a number with a unit (500MB, 5GB, 2GiB)` });
    return z.NEVER;
  }
  return bytes;
});

/** Keys every model entry may have; the method's per-model knobs (perModel) come on top. */
export const MODEL_KEYS = ['path', 'stats', 'weight'] as const;

export const modelEntrySchema = z
  .object({
    /** A .safetensors file, a folder with model.safetensors, or a sharded folder. */
    path: z.string().min(1).describe('a .safetensors file, a folder with model.safetensors, or a sharded folder'),
    /** Statistics file (one safetensors per model, keys `<param>::<kind>`). */
    stats: z.string().min(1).optional().describe('statistics file of this model (keys <param>::<kind>)'),
    /** Weight of this model (>= 0; 1 by default), or per tensor (a layer gradient or filtered list). */
    weight: tensorValueSchema
      .refine((v) => numbersIn(v).every((x) => Number.isFinite(x) && x >= 0), { message: 'weights are finite numbers >= 0' })
      .optional()
      .describe('weight w_i of this model (>= 0, default 1); a number, or per tensor'),
  })
  // The method's per-model knobs (density, ...): checked against the method in load.ts.
  .catchall(z.unknown());

export const outputSchema = z.strictObject({
  path: z.string().min(1).optional().describe('output folder (relative to the config file); OUTPUT or --out on the command line overrides it'),
  dtype: z.enum(OUTPUT_DTYPES).default('same').describe('dtype of merged tensors: same keeps each tensor\'s; integer and bool tensors always keep theirs'),
  shard_size: byteSize.default(5e9).meta({ defaultText: '5GB' }).describe('write shards above this size: bytes, or a number with KB/MB/GB (powers of 10) or KiB/MiB/GiB'),
  tokenizer_source: z.string().min(1).optional().describe('folder whose tokenizer files are copied into the output (default: the base\'s, or the first model\'s)'),
});

export const configSchema = z
  .strictObject({
    method: z.string().min(1).describe('the merging method (mats methods lists them)'),
    base: z.string().min(1).optional().describe('the pretrained model task vectors are taken against (a folder or a .safetensors file)'),
    models: z.array(modelEntrySchema).min(1).describe('the models to merge: {path, stats?, weight?} and the method\'s per-model knobs'),
    parameters: z.record(z.string(), z.unknown()).default({}).describe('the method\'s knobs (mats methods); numeric ones may vary by tensor'),
    output: outputSchema.default({ dtype: 'same', shard_size: 5e9 }).describe('where and how the merged checkpoint is written'),
    backend: z.enum(['cpu', 'gpu']).default('cpu').describe('compute backend handed to methods (gpu needs @mats/backend-gpu)'),
    precision: z.enum(['float32', 'float64']).default('float32').describe('precision tensors are read and computed in'),
    seed: z.number().int().gte(0).lte(2 ** 32 - 1).default(0).describe('seed of methods that draw random numbers (dare)'),
    aliases: z
      .record(z.string(), z.union([z.string(), z.array(z.string())]))
      .default({})
      .describe('tied weights: {tensor: name or [names]} it may be stored under when absent (adds to the defaults)'),
    allow_nonfinite: z.boolean().default(false).describe('merge inputs that hold NaN or Inf (with a warning) instead of refusing them'),
  })
  .superRefine((c, ctx) => {
    if (c.models.length > 0 && c.models.every((m) => m.weight === 0)) ctx.addIssue({ code: 'custom', path: ['models'], message: 'every model has weight 0; at least one weight must be positive' });
  });

export type RawConfig = z.output<typeof configSchema>;
