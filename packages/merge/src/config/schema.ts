/**
 * The merge config (YAML). Keys (more may be added):
 *   method; base; models: [{path, stats?, weight?}]; parameters: {method knobs};
 *   output: {path, dtype, shard_size}; backend: cpu | gpu; precision; seed; aliases;
 *   allow_nonfinite.
 * Method parameters are validated by the method's own schema (methods/*.ts).
 */
import { z } from 'zod';

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

export const modelEntrySchema = z.strictObject({
  /** A .safetensors file, a folder with model.safetensors, or a sharded folder. */
  path: z.string().min(1),
  /** Statistics file (one safetensors per model, keys `<param>::<kind>`). */
  stats: z.string().min(1).optional(),
  /** Weight of this model (>= 0; 1 by default). */
  weight: z.number().finite().gte(0).optional(),
});

export const outputSchema = z.strictObject({
  /** Output folder; --out overrides it. */
  path: z.string().min(1).optional(),
  /** Output dtype of merged tensors; same keeps each tensor's dtype. */
  dtype: z.enum(OUTPUT_DTYPES).default('same'),
  /** Shard the output above this size (transformers' default, 5GB). */
  shard_size: byteSize.default(5e9),
});

export const configSchema = z
  .strictObject({
    method: z.string().min(1),
    /** The pretrained model; task vectors are taken against it. */
    base: z.string().min(1).optional(),
    models: z.array(modelEntrySchema).min(1),
    /** The method's knobs (see `mats merge --help` / README). */
    parameters: z.record(z.string(), z.unknown()).default({}),
    output: outputSchema.default({ dtype: 'same', shard_size: 5e9 }),
    /** Compute backend handed to methods. */
    backend: z.enum(['cpu', 'gpu']).default('cpu'),
    /** Precision tensors are read and computed in. */
    precision: z.enum(['float32', 'float64']).default('float32'),
    /** Seed for methods that draw random numbers (dare). */
    seed: z.number().int().gte(0).lte(2 ** 32 - 1).default(0),
    /** Tied weights: tensor -> names it may be stored under instead (adds to the defaults). */
    aliases: z.record(z.string(), z.union([z.string(), z.array(z.string())])).default({}),
    /** Merge inputs that hold NaN or Inf (with a warning) instead of refusing them. */
    allow_nonfinite: z.boolean().default(false),
  })
  .superRefine((c, ctx) => {
    if (c.models.length > 0 && c.models.every((m) => m.weight === 0)) ctx.addIssue({ code: 'custom', path: ['models'], message: 'every model has weight 0; at least one weight must be positive' });
  });

export type RawConfig = z.output<typeof configSchema>;
