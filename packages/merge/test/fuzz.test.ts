/**
 * Fuzzing the parsers of untrusted input (issue 13): the safetensors header parser, the shard
 * index reader and the config loader. Thousands of generated inputs per run, near-valid ones
 * (valid structures with one field broken) as well as random bytes and text: each input gives a
 * result, or one error of the project's classes (UserError: SafetensorsError,
 * ValidationError, ...), never a TypeError, a RangeError or another uncaught exception. The
 * parsers only read, so no input can leave a partial output.
 *
 * Hangs: the header and config parsers are synchronous and linear in their input, and every
 * property runs under vitest's test timeout.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { Checkpoint } from '../src/checkpoint/checkpoint.js';
import { readShardIndex } from '../src/checkpoint/shard-index.js';
import { parseConfig } from '../src/config/load.js';
import { UserError } from '../src/errors.js';
import { parseHeader, parseHeaderLength } from '../src/safetensors/header.js';
import { SafetensorsFile } from '../src/safetensors/reader.js';
import { tempFolder } from './helpers.js';

/** Runs f; returns its result, or the error when it is a UserError; rethrows anything else. */
function cleanly<T>(f: () => T): T | UserError {
  try {
    return f();
  } catch (e) {
    if (e instanceof UserError) return e;
    throw new Error(`not a clean error: ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`, { cause: e });
  }
}

async function cleanlyAsync<T>(f: () => Promise<T>): Promise<T | UserError> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof UserError) return e;
    throw new Error(`not a clean error: ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`, { cause: e });
  }
}

const encoder = new TextEncoder();

// ---- safetensors headers ----

/** Names that have broken parsers elsewhere: prototype keys, the metadata key, odd unicode. */
const nameArb = fc.oneof(
  fc.constantFrom('w', 'layers.0.weight', '__metadata__', '__proto__', 'constructor', 'toString', '', 'a"b', 'é', '\u0000', '\ud83d\ude00'),
  fc.string({ maxLength: 12 }),
);
const dtypeArb = fc.oneof(fc.constantFrom('F64', 'F32', 'F16', 'BF16', 'I64', 'I32', 'I16', 'I8', 'U8', 'BOOL', 'F8_E4M3', 'F8_E5M2', 'F4', 'C64'), fc.string({ maxLength: 6 }));
/** Numbers around every limit the parser checks. */
const numberArb = fc.oneof(
  fc.integer({ min: 0, max: 64 }),
  fc.constantFrom(-1, 0.5, 2 ** 31, 2 ** 32, 2 ** 53 - 1, 2 ** 53, 2 ** 64, 1e308, -0),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);
/** A JSON value of the wrong kind for any field. */
const junkArb: fc.Arbitrary<unknown> = fc.oneof(fc.constant(null), fc.boolean(), fc.string({ maxLength: 5 }), fc.array(numberArb, { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { maxKeys: 2 }));

/** One tensor entry: valid fields most of the time, any field sometimes replaced or dropped. */
const entryArb = fc
  .record({
    dtype: fc.oneof({ weight: 4, arbitrary: dtypeArb }, { weight: 1, arbitrary: junkArb }),
    shape: fc.oneof({ weight: 4, arbitrary: fc.array(numberArb, { maxLength: 4 }) }, { weight: 1, arbitrary: junkArb }),
    begin: numberArb,
    length: numberArb,
    extra: fc.option(fc.tuple(fc.string({ maxLength: 4 }), junkArb), { freq: 8 }),
    drop: fc.option(fc.constantFrom('dtype', 'shape', 'data_offsets'), { freq: 8 }),
  })
  .map(({ dtype, shape, begin, length, extra, drop }) => {
    const entry: Record<string, unknown> = { dtype, shape, data_offsets: [begin, begin + length] };
    if (extra !== null) entry[extra[0]] = extra[1];
    if (drop !== null) delete entry[drop];
    return entry;
  });

/** Header text of entries laid out back to back (valid when the fields are), with metadata. */
const headerTextArb = fc
  .record({
    tensors: fc.array(fc.tuple(nameArb, fc.constantFrom('F32', 'F16', 'U8', 'BOOL'), fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 3 })), { maxLength: 5 }),
    broken: fc.oneof(fc.constant([]), fc.array(fc.tuple(nameArb, entryArb), { maxLength: 2 })),
    metadata: fc.option(fc.oneof({ weight: 3, arbitrary: fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 3 }) }, { weight: 1, arbitrary: junkArb })),
  })
  .map(({ tensors, broken, metadata }) => {
    const width: Record<string, number> = { F32: 4, F16: 2, U8: 1, BOOL: 1 };
    let offset = 0;
    const parts: string[] = [];
    for (const [name, dtype, shape] of tensors) {
      const bytes = shape.reduce((a, b) => a * b, 1) * width[dtype];
      parts.push(`${JSON.stringify(name)}:${JSON.stringify({ dtype, shape, data_offsets: [offset, offset + bytes] })}`);
      offset += bytes;
    }
    for (const [name, entry] of broken) parts.push(`${JSON.stringify(name)}:${JSON.stringify(entry)}`);
    if (metadata !== null) parts.push(`"__metadata__":${JSON.stringify(metadata)}`);
    return { text: `{${parts.join(',')}}`, dataBytes: offset };
  });

/** Bytes of a header: near-valid JSON, possibly mutated (truncated, a byte flipped), or any bytes. */
const headerBytesArb = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(headerTextArb, fc.oneof(fc.constant(0), fc.integer({ min: -8, max: 8 }))).map(([h, slack]) => ({ bytes: encoder.encode(h.text), dataBytes: Math.max(0, h.dataBytes + slack) })) },
  {
    weight: 2,
    arbitrary: fc.tuple(headerTextArb, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.boolean()).map(([h, at, byte, truncate]) => {
      const bytes = encoder.encode(h.text);
      const i = bytes.length === 0 ? 0 : at % bytes.length;
      if (truncate) return { bytes: bytes.slice(0, i), dataBytes: h.dataBytes };
      if (bytes.length > 0) bytes[i] = byte;
      return { bytes, dataBytes: h.dataBytes };
    }),
  },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => ({ bytes: encoder.encode(JSON.stringify(v)), dataBytes: 0 })) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes) => ({ bytes, dataBytes: 0 })) },
);

describe('fuzz: the safetensors header parser', () => {
  it('gives a header or a SafetensorsError for every input', () => {
    let parsed = 0;
    fc.assert(
      fc.property(headerBytesArb, ({ bytes, dataBytes }) => {
        const fileSize = 8 + bytes.length + dataBytes;
        const result = cleanly(() => parseHeader('fuzz.safetensors', bytes, fileSize));
        if (result instanceof UserError) {
          expect(result.message).toMatch(/^fuzz\.safetensors: /);
          return;
        }
        parsed++;
        // What a reader relies on: every tensor lies inside the data buffer, and they tile it.
        let total = 0;
        for (const t of result.tensors) {
          expect(t.fileOffset).toBeGreaterThanOrEqual(8 + bytes.length);
          expect(t.fileOffset + t.byteLength).toBeLessThanOrEqual(fileSize);
          total += t.byteLength;
        }
        expect(total).toBe(dataBytes);
      }),
      { numRuns: 4000 },
    );
    // The generator reaches the valid side too (it is not a test of rejections alone).
    expect(parsed).toBeGreaterThan(100);
  });

  it('reads the 8-byte length prefix of any value and file size', () => {
    fc.assert(
      fc.property(fc.bigUint64Array({ minLength: 1, maxLength: 1 }), fc.nat(), (prefix, size) => {
        const result = cleanly(() => parseHeaderLength('fuzz.safetensors', new Uint8Array(prefix.buffer), size));
        if (!(result instanceof UserError)) expect(8 + result).toBeLessThanOrEqual(size);
      }),
      { numRuns: 2000 },
    );
  });

  it('opens any file of random or near-valid bytes, or rejects it with a SafetensorsError', async () => {
    const dir = await tempFolder();
    const file = join(dir, 'f.safetensors');
    await fc.assert(
      fc.asyncProperty(headerBytesArb, fc.option(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), { freq: 4 }), async ({ bytes, dataBytes }, lengthOverride) => {
        const out = new Uint8Array(8 + bytes.length + dataBytes);
        new DataView(out.buffer).setBigUint64(0, lengthOverride ?? BigInt(bytes.length), true);
        out.set(bytes, 8);
        await writeFile(file, out);
        const opened = await cleanlyAsync(() => SafetensorsFile.open(file));
        if (!(opened instanceof UserError)) {
          // Every tensor of an accepted file reads without error.
          for (const t of opened.tensors) await opened.readBytes(t.name);
          await opened.close();
        }
      }),
      { numRuns: 500 },
    );
  });
});

// ---- shard index ----

const shardPathArb = fc.oneof(
  fc.constantFrom('model-00001-of-00002.safetensors', 'sub/a.safetensors', '../x.safetensors', '/etc/passwd', 'C:\\x', '\\\\server\\x', '', '.', './a', 'a/../../b', 'a\u0000b', 'é.safetensors'),
  fc.string({ maxLength: 10 }),
);
const indexArb = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .record({
        metadata: fc.option(fc.oneof(fc.record({ total_size: numberArb }), junkArb)),
        weight_map: fc.oneof({ weight: 5, arbitrary: fc.dictionary(nameArb, fc.oneof({ weight: 5, arbitrary: shardPathArb }, { weight: 1, arbitrary: junkArb }), { maxKeys: 5 }) }, { weight: 1, arbitrary: junkArb }),
        extra: fc.option(fc.dictionary(fc.string({ maxLength: 4 }), junkArb, { maxKeys: 2 })),
      })
      .map((r) => JSON.stringify({ ...(r.extra ?? {}), ...(r.metadata !== null ? { metadata: r.metadata } : {}), weight_map: r.weight_map })),
  },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
);

describe('fuzz: the shard index reader', () => {
  it('gives an index or a SafetensorsError for every model.safetensors.index.json', async () => {
    const dir = await tempFolder();
    const folder = join(dir, 'ckpt');
    await mkdir(folder);
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(indexArb, async (text) => {
        await writeFile(join(folder, 'model.safetensors.index.json'), text);
        const index = await cleanlyAsync(() => readShardIndex(folder));
        if (index instanceof UserError) return;
        accepted++;
        // Every shard an accepted index names is inside the folder.
        for (const shard of index.shards) expect(shard.startsWith(`${folder}/`)).toBe(true);
      }),
      { numRuns: 1000 },
    );
    expect(accepted).toBeGreaterThan(50);
  });

  it('opens a sharded checkpoint or rejects it cleanly, whatever its index names', async () => {
    const dir = await tempFolder();
    await fc.assert(
      fc.asyncProperty(indexArb, async (text) => {
        const folder = join(dir, 'ckpt');
        await rm(folder, { recursive: true, force: true });
        await mkdir(folder);
        await writeFile(join(folder, 'model.safetensors.index.json'), text);
        const opened = await cleanlyAsync(() => Checkpoint.open(folder));
        if (!(opened instanceof UserError)) await opened.close();
      }),
      { numRuns: 200 },
    );
  });
});

// ---- config ----

const knobArb: fc.Arbitrary<unknown> = fc.oneof(numberArb, fc.constant(null), fc.boolean(), fc.string({ maxLength: 8 }), fc.constantFrom('global', 'per_tensor', 'kfac', 'auto', 'ties'), junkArb);
/** A valid config (the shape every method accepts), then 0 to 3 of its keys replaced by anything, or removed. */
const validConfig = { method: 'ties', base: 'base', models: [{ path: 'a', weight: 0.5 }, { path: 'b.safetensors', stats: 'b.stats' }], parameters: { density: 0.3 }, output: { path: 'merged', dtype: 'float16', shard_size: '1GB' }, precision: 'float64', seed: 3 };
const replacementArb = fc.record({
  method: fc.oneof(fc.constantFrom('average', 'task_arithmetic', 'ties', 'dare', 'fisher', 'regmean', 'mats', 'tie', ''), junkArb),
  base: junkArb,
  models: fc.oneof(
    fc.array(fc.oneof(fc.record({ path: fc.oneof(fc.constantFrom('a', 'b.safetensors'), junkArb), stats: fc.option(fc.string({ maxLength: 5 })), weight: fc.option(numberArb) }, { requiredKeys: ['path'] }), junkArb), { maxLength: 3 }),
    junkArb,
  ),
  parameters: fc.oneof(fc.dictionary(fc.constantFrom('lambda', 'density', 'p', 'trim', 'subspace', 'iterations', 'init', 'init_parameters', 'rtol', 'shrink', 'unknown_knob'), knobArb, { maxKeys: 4 }), junkArb),
  output: fc.oneof(fc.record({ path: fc.option(fc.string({ maxLength: 5 })), dtype: fc.option(fc.constantFrom('same', 'float16', 'int8')), shard_size: fc.option(fc.oneof(fc.constantFrom('5GB', '1.5MiB', '0', 'lots'), numberArb)) }, { requiredKeys: [] }), junkArb),
  precision: fc.oneof(fc.constantFrom('float32', 'float64', 'float16'), junkArb),
  seed: numberArb,
  aliases: fc.oneof(fc.dictionary(nameArb, fc.oneof(fc.string({ maxLength: 5 }), fc.array(fc.string({ maxLength: 5 }), { maxLength: 2 })), { maxKeys: 2 }), junkArb),
  allow_nonfinite: knobArb,
  ['__proto__']: junkArb,
  unknown: junkArb,
});
const configObjectArb = fc
  .tuple(replacementArb, fc.subarray(['method', 'base', 'models', 'parameters', 'output', 'precision', 'seed', 'aliases', 'allow_nonfinite', '__proto__', 'unknown'] as const, { maxLength: 3 }), fc.boolean())
  .map(([replacement, keys, remove]) => {
    const config: Record<string, unknown> = { ...validConfig };
    for (const key of keys) {
      if (remove) delete config[key];
      else Object.defineProperty(config, key, { value: replacement[key], enumerable: true, writable: true, configurable: true });
    }
    return config;
  });

/** YAML-looking text: tokens of the syntax (anchors, aliases, tags, merge keys, flow, block) in random order. */
const yamlTokenArb = fc.constantFrom(
  'method: ties\n', 'models:\n', '  - path: a\n', '- ', 'parameters:\n', '  density: ', '0.3', '\n', '  ', ': ', '&a ', '*a', '*b', '&b [*a, *a]\n', '<<: *a\n', '!!binary ', '!!set ', '!!omap ', '!!int ', '!custom ', '{', '}', '[', ']', ',', '"', "'", '|\n', '>-\n', '#', '---\n', '...\n', '%YAML 1.2\n', '? ', 'null', '~', '.nan', '-.inf', '0x1F', '1e999', 'é', '\t', '\u0000',
);
const configTextArb = fc.oneof(
  { weight: 3, arbitrary: configObjectArb.map((o) => stringify(o)) },
  { weight: 2, arbitrary: fc.array(yamlTokenArb, { maxLength: 30 }).map((t) => t.join('')) },
  { weight: 1, arbitrary: fc.tuple(configObjectArb, fc.nat(), fc.string({ maxLength: 4 })).map(([o, at, insert]) => {
    const text = stringify(o);
    const i = at % (text.length + 1);
    return text.slice(0, i) + insert + text.slice(i);
  }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 80, unit: 'binary' }) },
);

describe('fuzz: the config loader', () => {
  it('gives a config or one UserError (naming the file) for every text', () => {
    let accepted = 0;
    fc.assert(
      fc.property(configTextArb, (text) => {
        const result = cleanly(() => parseConfig(text, '/fuzz/merge.yaml', '/fuzz'));
        if (result instanceof UserError) {
          expect(result.message).toContain('/fuzz/merge.yaml');
          return;
        }
        accepted++;
        expect(result.models.length).toBeGreaterThan(0);
        for (const m of result.models) expect(m.path.startsWith('/')).toBe(true);
      }),
      { numRuns: 3000 },
    );
    expect(accepted).toBeGreaterThan(20);
  });
});
