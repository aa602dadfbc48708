/**
 * The merge's I/O abstraction: the same merge through the file system (node-io) and through
 * Blob objects (BlobInputFiles, BlobOutputTarget, as the web page runs it) writes the same
 * files; the Blob implementations on their own (paths, folders, reads in slices, output parts);
 * and a corrupt input gets the same message through both.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Checkpoint } from '../src/checkpoint/checkpoint.js';
import { parseConfig } from '../src/config/load.js';
import { UserError, ValidationError } from '../src/errors.js';
import { BlobInputFiles, normalizePath } from '../src/io/blob-files.js';
import { BlobOutputTarget } from '../src/io/blob-output.js';
import { FileAccessError, type MergeIo } from '../src/io/files.js';
import { planMerge } from '../src/pipeline/plan.js';
import { runMerge } from '../src/pipeline/run.js';
import { SafetensorsFile } from '../src/safetensors/reader.js';
import { SafetensorsWriter } from '../src/safetensors/writer.js';
import { randomModel, writeModelFile, writeShardedModel, type Fixture } from './fixtures.js';
import { rawFile, tempFolder } from './helpers.js';

/** Every file under dir, as [relative POSIX path, Blob]: what a page gets when a person drops the folder's contents. */
async function blobsOf(dir: string): Promise<[string, Blob][]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const out: [string, Blob][] = [];
  for (const e of entries) {
    if (!e.isFile()) continue;
    const full = join(e.parentPath, e.name);
    out.push([relative(dir, full).split('\\').join('/'), new Blob([await readFile(full)])]);
  }
  return out;
}

/** A Fisher statistics file for randomModel's float tensors (positive values). */
function fisherOf(model: Fixture): Fixture {
  const stats: Fixture = {};
  for (const [name, t] of Object.entries(model)) {
    if (t.dtype !== 'F32') continue;
    stats[`${name}::fisher`] = { dtype: 'F32', shape: t.shape, data: Float32Array.from(t.data as Float32Array, (v) => Math.fround(0.5 + Math.abs(v))) };
  }
  return stats;
}

/** What a Hugging Face folder holds beside its tensors: a merge copies them into its output. */
const FOLDER_FILES: Record<string, string> = {
  'config.json': '{"model_type": "tiny", "torch_dtype": "float32"}\n',
  'generation_config.json': '{"max_new_tokens": 4}\n',
  'tokenizer.json': '{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": []}}\n',
  'vocab.txt': 'a\nb\n',
};

/** base (2 shards and FOLDER_FILES), model 0 (a file), model 1 (3 shards), with Fisher statistics for both. */
async function writeInputs(dir: string): Promise<void> {
  await writeShardedModel(join(dir, 'base'), randomModel(1), 2);
  for (const [name, text] of Object.entries(FOLDER_FILES)) await writeFile(join(dir, 'base', name), text);
  const m0 = randomModel(2);
  const m1 = randomModel(3);
  await writeModelFile(join(dir, 'math.safetensors'), m0);
  await writeShardedModel(join(dir, 'code'), m1, 3);
  await writeModelFile(join(dir, 'math.stats.safetensors'), fisherOf(m0));
  await writeModelFile(join(dir, 'code.stats.safetensors'), fisherOf(m1));
}

function configText(method: string, parameters: string): string {
  return [
    `method: ${method}`,
    'base: base',
    'models:',
    '  - path: math.safetensors',
    '    stats: math.stats.safetensors',
    '  - path: code',
    '    stats: code.stats.safetensors',
    '    weight: 0.5',
    `parameters: ${parameters}`,
    'output:',
    '  path: out',
    '  dtype: bfloat16',
    '  shard_size: 100B',
    '',
  ].join('\n');
}

/** One safetensors file of an output in parts, so that a difference says where it is. */
async function parts(bytes: Uint8Array, name: string): Promise<{ metadata: Record<string, string>; layout: string; data: Uint8Array }> {
  const file = await SafetensorsFile.read({ path: name, size: bytes.length, read: async (t, p) => t.set(bytes.subarray(p, p + t.length)), close: async () => undefined });
  const { header } = file;
  return {
    metadata: { ...header.metadata },
    layout: JSON.stringify(header.tensors.map((t) => [t.name, t.dtype, t.shape, t.dataOffsets])),
    data: bytes.subarray(header.dataStart),
  };
}

describe('the same merge through the file system and through Blobs', () => {
  for (const [method, parameters] of [
    ['ties', '{density: 0.5}'],
    ['fisher', '{}'],
    ['dare', '{p: 0.3}'],
  ] as const) {
    it(`${method}: the same files, byte for byte, the Hugging Face folder's config and tokenizer files included`, async () => {
      const dir = await tempFolder();
      await writeInputs(dir);
      const text = configText(method, parameters);
      await writeFile(join(dir, 'merge.yaml'), text);

      const onDisk = await planMerge(parseConfig(text, join(dir, 'merge.yaml'), dir), { chunkElements: 7 });
      try {
        await runMerge(onDisk);
      } finally {
        await onDisk.close();
      }
      const expected = new Map<string, Uint8Array>();
      for (const f of await readdir(join(dir, 'out'))) expected.set(f, new Uint8Array(await readFile(join(dir, 'out', f))));
      expect(expected.size).toBeGreaterThan(2); // sharded: shards and the index
      for (const name of Object.keys(FOLDER_FILES)) expect([...expected.keys()]).toContain(name);
      expect(JSON.parse(new TextDecoder().decode(expected.get('config.json'))).torch_dtype).toBe('bfloat16');

      const inputs = new BlobInputFiles(await blobsOf(dir));
      const output = new BlobOutputTarget();
      const io: MergeIo = { inputs, output };
      const inBlobs = await planMerge(parseConfig(text, 'merge.yaml', '', { inputs }), { chunkElements: 7, io });
      try {
        await runMerge(inBlobs);
      } finally {
        await inBlobs.close();
      }
      const written = output.outputs.get('out')!;
      expect([...written.keys()].sort()).toEqual([...expected.keys()].sort());

      for (const [name, bytes] of expected) {
        const got = new Uint8Array(await written.get(name)!.arrayBuffer());
        if (!name.endsWith('.safetensors')) {
          expect(new TextDecoder().decode(got), name).toBe(new TextDecoder().decode(bytes));
          continue;
        }
        // Inputs are named relative to the config on both sides: the metadata is the same too.
        const [a, b] = [await parts(bytes, name), await parts(got, name)];
        expect(b.metadata).toEqual(a.metadata);
        expect(b.layout).toBe(a.layout);
        expect(Buffer.compare(Buffer.from(got), Buffer.from(bytes)), `${name}: bytes`).toBe(0);
      }
    });
  }

  it('an input that is not a safetensors file gets the same problem list, naming the file as given', async () => {
    const dir = await tempFolder();
    await writeInputs(dir);
    await writeFile(join(dir, 'math.safetensors'), rawFile('{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}', new Uint8Array(4)));
    const text = configText('ties', '{}');
    const fromDisk = await planMerge(parseConfig(text, join(dir, 'merge.yaml'), dir)).catch((e: unknown) => e);
    const inputs = new BlobInputFiles(await blobsOf(dir));
    const fromBlobs = await planMerge(parseConfig(text, 'merge.yaml', '', { inputs }), { io: { inputs, output: new BlobOutputTarget() } }).catch((e: unknown) => e);
    expect(fromDisk).toBeInstanceOf(ValidationError);
    expect(fromBlobs).toBeInstanceOf(ValidationError);
    expect((fromDisk as Error).message).toMatch(/models\[0\]: .*math\.safetensors: tensor data runs past the end of the file/);
    expect((fromBlobs as Error).message).toBe((fromDisk as Error).message.split(`${dir}/`).join(''));
  });
});

describe('BlobInputFiles', () => {
  const blob = (text: string) => new Blob([text]);
  const files = new BlobInputFiles([
    ['a.safetensors', blob('A')],
    ['m/model.safetensors.index.json', blob('{}')],
    ['m/sub/x.bin', blob('X')],
  ]);

  it('resolves paths as POSIX does for relative ones', () => {
    expect(normalizePath('./m//sub/../x')).toBe('m/x');
    expect(normalizePath('../x')).toBe('../x');
    expect(files.resolve('m', 'sub/x.bin')).toBe('m/sub/x.bin');
    expect(files.resolve('m', '/a.safetensors')).toBe('a.safetensors');
    expect(files.dirname('m/sub/x.bin')).toBe('m/sub');
    expect(files.dirname('a.safetensors')).toBe('');
    expect(files.join('m', 'model.safetensors.index.json')).toBe('m/model.safetensors.index.json');
    expect(files.isAbsolute('/m')).toBe(true);
    expect(files.isAbsolute('m')).toBe(false);
    expect(files.relative('', 'm/sub/x.bin')).toBe('m/sub/x.bin');
    expect(files.relative('m/sub', 'm/a.bin')).toBe('../a.bin');
    expect(files.relative('m', 'm')).toBe('');
    expect(files.relative('./m/', 'n/x')).toBe('../n/x');
  });

  it('has folders where paths share a prefix, and says ENOENT, EISDIR and ENOTDIR as the file system does', async () => {
    expect(await files.kind('a.safetensors')).toBe('file');
    expect(await files.kind('m')).toBe('folder');
    expect(await files.kind('m/sub/')).toBe('folder');
    expect((await files.list('m')).sort()).toEqual(['model.safetensors.index.json', 'sub']);
    expect((await files.list('')).sort()).toEqual(['a.safetensors', 'm']);
    expect(await files.readText('m/model.safetensors.index.json')).toBe('{}');
    const code = (p: Promise<unknown>) => p.then(() => 'resolved', (e: unknown) => (e instanceof FileAccessError ? e.code : String(e)));
    expect(await code(files.kind('nothing'))).toBe('ENOENT');
    expect(await code(files.open('m'))).toBe('EISDIR');
    expect(await code(files.list('a.safetensors'))).toBe('ENOTDIR');
    expect(() => new BlobInputFiles([['x', blob('1')], ['./x', blob('2')]])).toThrow(/two files at x/);
  });

  it('reads any range in slices of the configured size, and refuses to read past the end', async () => {
    const bytes = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) % 256);
    const small = new BlobInputFiles([['f', new Blob([bytes])]], { sliceBytes: 64 });
    const source = await small.open('f');
    expect(source.size).toBe(1000);
    const target = new Uint8Array(517);
    await source.read(target, 333);
    expect(Buffer.compare(Buffer.from(target), Buffer.from(bytes.subarray(333, 850)))).toBe(0);
    await expect(source.read(new Uint8Array(10), 995)).rejects.toThrow(/^f: unexpected end of file at byte 1000/);
  });

  it('opens a checkpoint folder and reads its tensors like the file system does', async () => {
    const dir = await tempFolder();
    const model = randomModel(5);
    await writeShardedModel(join(dir, 'ckpt'), model, 2);
    const fromDisk = await Checkpoint.open(join(dir, 'ckpt'));
    const fromBlobs = await Checkpoint.open('ckpt', new BlobInputFiles(await blobsOf(dir)));
    expect(fromBlobs.kind).toBe('sharded');
    expect(fromBlobs.names().sort()).toEqual(fromDisk.names().sort());
    for (const name of fromDisk.names()) {
      expect(Buffer.compare(Buffer.from(await fromBlobs.readBytes(name)), Buffer.from(await fromDisk.readBytes(name)))).toBe(0);
    }
    await fromDisk.close();
    await expect(Checkpoint.open('nowhere', new BlobInputFiles(await blobsOf(dir)))).rejects.toThrow(/^nowhere: no such file or folder$/);
  });
});

describe('BlobOutputTarget', () => {
  const specs = [
    { name: 'b', dtype: 'F32' as const, shape: [3] },
    { name: 'a', dtype: 'F64' as const, shape: [2] },
  ];

  it('assembles positioned writes in any order into the file the file system would hold', async () => {
    const dir = await tempFolder();
    const write = async (writer: SafetensorsWriter) => {
      await writer.writeFloats('b', Float32Array.of(3), 2);
      await writer.writeFloats('a', Float64Array.of(1.5, -2));
      await writer.writeFloats('b', Float32Array.of(1, 2), 0);
      await writer.close();
    };
    await write(await SafetensorsWriter.create(join(dir, 'x.safetensors'), specs, { k: 'v' }));
    const target = new BlobOutputTarget();
    const folder = await target.create('out', false);
    await write(await SafetensorsWriter.create('x.safetensors', specs, { k: 'v' }, (name, size) => folder.createFile(name, size)));
    expect(await target.exists('out')).toBe(false); // nothing visible before commit
    await folder.commit();
    const got = new Uint8Array(await target.outputs.get('out')!.get('x.safetensors')!.arrayBuffer());
    expect(Buffer.compare(Buffer.from(got), await readFile(join(dir, 'x.safetensors')))).toBe(0);
    await expect(target.create('out', false)).rejects.toThrow(UserError);
    await expect(target.create('out', true)).resolves.toBeDefined();
  });

  it('refuses writes past the end and overlapping writes; abort leaves nothing', async () => {
    const target = new BlobOutputTarget();
    const folder = await target.create('out', false);
    const sink = await folder.createFile('f', 8);
    await expect(sink.write(new Uint8Array(4), 6)).rejects.toThrow(/runs past the file's 8 bytes/);
    await sink.write(new Uint8Array(4), 0);
    await sink.write(new Uint8Array(4), 2);
    await expect(sink.close()).rejects.toThrow(/two writes overlap at byte 2/);
    await folder.abort();
    await folder.abort();
    expect(target.outputs.size).toBe(0);
    await expect(folder.createFile('g', 1)).rejects.toThrow(/after abort/);
  });

  it('a merge stopped by its signal leaves no output', async () => {
    const dir = await tempFolder();
    await writeInputs(dir);
    const inputs = new BlobInputFiles(await blobsOf(dir));
    const output = new BlobOutputTarget();
    const plan = await planMerge(parseConfig(configText('task_arithmetic', '{}'), 'merge.yaml', '', { inputs }), { io: { inputs, output } });
    const controller = new AbortController();
    let tensors = 0;
    try {
      await expect(
        runMerge(plan, {
          signal: controller.signal,
          onEvent: (e) => {
            if (e.type === 'tensor' && ++tensors === 2) controller.abort();
          },
        }),
      ).rejects.toThrow(/merge interrupted; nothing was written/);
    } finally {
      await plan.close();
    }
    expect(output.outputs.size).toBe(0);
  });
});
