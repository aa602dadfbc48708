/**
 * Generates models for measuring `mats merge` throughput and peak memory: a base and N task
 * models of about SIZE GB each (F32, LLaMA-like shapes: embedding, attention, MLP, norms, an
 * untied head), plus a task_arithmetic config beside them.
 *
 *   npm run build
 *   node bench/dist/merge-models.js DIR [--models 4] [--gb 1]
 *   /usr/bin/time -v node packages/merge/dist/cli/main.js merge DIR/merge.yaml --quiet
 *   rm -rf DIR
 *
 * The files are written here by hand (8-byte length, JSON header, data), not by @mats/merge,
 * so the inputs of the measurement do not come from the code under test. Data is streamed in
 * chunks: the generator itself stays at a few tens of MB.
 */
import { mkdir, open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

interface Spec {
  readonly name: string;
  readonly shape: readonly number[];
}

function llamaLikeShapes(targetBytes: number): Spec[] {
  const hidden = 1024;
  const mlp = 2816;
  const vocab = 32000;
  const specs: Spec[] = [
    { name: 'model.embed_tokens.weight', shape: [vocab, hidden] },
    { name: 'lm_head.weight', shape: [vocab, hidden] },
    { name: 'model.norm.weight', shape: [hidden] },
  ];
  const perLayer = 4 * (4 * hidden * hidden + 3 * hidden * mlp + 2 * hidden);
  const fixed = 4 * (2 * vocab * hidden + hidden);
  const layers = Math.max(1, Math.round((targetBytes - fixed) / perLayer));
  for (let l = 0; l < layers; l++) {
    const p = `model.layers.${l}`;
    for (const m of ['q_proj', 'k_proj', 'v_proj', 'o_proj']) specs.push({ name: `${p}.self_attn.${m}.weight`, shape: [hidden, hidden] });
    specs.push({ name: `${p}.mlp.gate_proj.weight`, shape: [mlp, hidden] });
    specs.push({ name: `${p}.mlp.up_proj.weight`, shape: [mlp, hidden] });
    specs.push({ name: `${p}.mlp.down_proj.weight`, shape: [hidden, mlp] });
    specs.push({ name: `${p}.input_layernorm.weight`, shape: [hidden] });
    specs.push({ name: `${p}.post_attention_layernorm.weight`, shape: [hidden] });
  }
  return specs;
}

const size = (s: Spec) => s.shape.reduce((a, b) => a * b, 1);

/** xorshift32 stream of uniforms in [-1, 1). */
function uniforms(seed: number): (out: Float32Array) => void {
  let x = seed >>> 0 || 1;
  return (out) => {
    for (let i = 0; i < out.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      out[i] = (x >>> 0) / 2147483648 - 1;
    }
  };
}

/** Writes one model: base values, plus scale * noise of its own seed for a task model. */
async function writeModel(path: string, specs: readonly Spec[], seed: number, noise: number): Promise<number> {
  let offset = 0;
  const header: string[] = [];
  for (const s of specs) {
    const bytes = 4 * size(s);
    header.push(`${JSON.stringify(s.name)}:{"dtype":"F32","shape":[${s.shape.join(',')}],"data_offsets":[${offset},${offset + bytes}]}`);
    offset += bytes;
  }
  let json = `{${header.join(',')}}`;
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const head = Buffer.alloc(8 + Buffer.byteLength(json));
  head.writeBigUInt64LE(BigInt(Buffer.byteLength(json)), 0);
  head.write(json, 8);
  const file = await open(path, 'w');
  await file.write(head, 0, head.length, 0);
  const chunk = 1 << 22;
  const base = new Float32Array(chunk);
  const extra = new Float32Array(chunk);
  const nextBase = uniforms(12345);
  const nextNoise = uniforms(seed);
  let position = head.length;
  for (let done = 0; done < offset / 4; done += chunk) {
    const n = Math.min(chunk, offset / 4 - done);
    const b = base.subarray(0, n);
    nextBase(b);
    if (noise > 0) {
      const e = extra.subarray(0, n);
      nextNoise(e);
      for (let i = 0; i < n; i++) b[i] += noise * e[i];
    }
    await file.write(new Uint8Array(b.buffer, 0, 4 * n), 0, 4 * n, position);
    position += 4 * n;
  }
  await file.close();
  return position;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const dir = args.find((a) => !a.startsWith('--'));
  const option = (name: string, fallback: number) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? Number(args[i + 1]) : fallback;
  };
  if (dir === undefined) {
    console.error('usage: node bench/dist/merge-models.js DIR [--models 4] [--gb 1]');
    process.exitCode = 1;
    return;
  }
  const models = option('models', 4);
  const specs = llamaLikeShapes(option('gb', 1) * 1e9);
  await mkdir(dir, { recursive: true });
  const t0 = performance.now();
  const bytes = await writeModel(join(dir, 'base.safetensors'), specs, 1, 0);
  for (let i = 1; i <= models; i++) await writeModel(join(dir, `task${i}.safetensors`), specs, 1000 + i, 0.01);
  const config = [
    'method: task_arithmetic',
    'base: base.safetensors',
    'models:',
    ...Array.from({ length: models }, (_, i) => `  - path: task${i + 1}.safetensors`),
    'parameters:',
    '  lambda: 0.3',
    'output:',
    '  path: merged',
    '',
  ].join('\n');
  await writeFile(join(dir, 'merge.yaml'), config);
  const largest = Math.max(...specs.map(size)) * 4;
  console.log(`wrote ${models + 1} models of ${(bytes / 1e9).toFixed(3)} GB (${specs.length} tensors, largest ${(largest / 1e6).toFixed(1)} MB) to ${dir} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

await main();
