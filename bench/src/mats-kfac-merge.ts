/**
 * Measures `mats merge` with the K-FAC subspace through the CLI: a generated problem of M task
 * models (default 8) with L linear layers of D x D (default 3 of 512 x 512) and K-FAC statistics,
 * merged to rtol 1e-6 once per preconditioner; reports wall time of the whole command, time in
 * the solves and CG iterations per layer (from --json-log), then deletes the generated data.
 *
 *   npm run build
 *   node bench/dist/mats-kfac-merge.js [--models 8] [--layers 3] [--dim 512] [--rtol 1e-6]
 *        [--preconditioners none,auto] [--precision float64] [--repeat 1] [--dir DIR] [--keep]
 *
 * Statistics are made realistic and well scaled: each factor (G_i [out, out], A_i [in, in]) is a
 * shared part S, a full-rank covariance with a power-law spectrum (the data every task sees),
 * plus half a task part U_i U_i^T of rank D/8 (what task i's data adds), normalised to a mean
 * diagonal of 1: factor condition numbers ~50, so ~2500 for each G_i (x) A_i. Written as F32,
 * as an estimator would. The files are written here by hand (length,
 * JSON header, data), not by @mats/merge, so the inputs do not come from the code under test.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCpuBackend } from '@mats/backend-cpu';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'packages', 'merge', 'bin', 'mats.js');

interface Options {
  models: number;
  layers: number;
  dim: number;
  rtol: number;
  preconditioners: string[];
  precision: 'float32' | 'float64';
  repeat: number;
  dir?: string;
  keep: boolean;
}

function parseOptions(args: string[]): Options {
  const value = (name: string) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const precision = value('precision') ?? 'float64';
  if (precision !== 'float32' && precision !== 'float64') throw new Error(`--precision must be float32 or float64, got ${precision}`);
  return {
    models: Number(value('models') ?? 8),
    layers: Number(value('layers') ?? 3),
    dim: Number(value('dim') ?? 512),
    rtol: Number(value('rtol') ?? 1e-6),
    preconditioners: (value('preconditioners') ?? 'none,auto').split(','),
    precision,
    repeat: Number(value('repeat') ?? 1),
    dir: value('dir'),
    keep: args.includes('--keep'),
  };
}

/** xorshift32 normals (Box-Muller), deterministic per seed. */
function normals(seed: number): (n: number) => Float64Array {
  let x = seed >>> 0 || 1;
  const uniform = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return ((x >>> 0) + 0.5) / 4294967296;
  };
  return (n) => {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
    return out;
  };
}

const backend = createCpuBackend('float64');

/** X X^T / cols for X [rows, cols], by the CPU backend's gemm. */
function gram(x: Float64Array, rows: number, cols: number): Float64Array {
  const t = backend.fromArray(x, [rows, cols]);
  const c = backend.zeros([rows, rows]);
  backend.gemm('N', 'T', 1 / cols, t, t, 0, c);
  const out = Float64Array.from(backend.toArray(c));
  backend.dispose(t);
  backend.dispose(c);
  return out;
}

/** m scaled in place to a mean diagonal of 1 ([n, n]). */
function unitMeanDiagonal(m: Float64Array, n: number): Float64Array {
  let trace = 0;
  for (let i = 0; i < n; i++) trace += m[i * n + i];
  const scale = n / trace;
  for (let k = 0; k < m.length; k++) m[k] *= scale;
  return m;
}

/**
 * The shared part: M M^T with M [n, 4n] Gaussian, column k scaled by (1 + k)^-0.3 (a power-law
 * spectrum; 4n columns keep the smallest eigenvalue away from 0): condition number ~50 at n = 512.
 */
function sharedFactor(n: number, seed: number): Float64Array {
  const cols = 4 * n;
  const m = normals(seed)(n * cols);
  for (let r = 0; r < n; r++) for (let k = 0; k < cols; k++) m[r * cols + k] *= (1 + k) ** -0.3;
  return unitMeanDiagonal(gram(m, n, cols), n);
}

/** shared + 0.5 U U^T (U [n, n/8]: the directions task i's data adds), both of mean diagonal 1, then normalised. */
function taskFactor(shared: Float64Array, n: number, seed: number): Float64Array {
  const part = unitMeanDiagonal(gram(normals(seed)(n * Math.max(1, n >> 3)), n, Math.max(1, n >> 3)), n);
  return unitMeanDiagonal(shared.map((v, k) => v + 0.5 * part[k]), n);
}

/** A safetensors file of F32 tensors, written by hand. */
async function writeSafetensors(path: string, tensors: { name: string; shape: number[]; data: ArrayLike<number> }[]): Promise<void> {
  let offset = 0;
  const entries = tensors.map((t) => {
    const bytes = 4 * t.data.length;
    const entry = `${JSON.stringify(t.name)}:{"dtype":"F32","shape":[${t.shape.join(',')}],"data_offsets":[${offset},${offset + bytes}]}`;
    offset += bytes;
    return entry;
  });
  let json = `{${entries.join(',')}}`;
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const head = Buffer.alloc(8 + Buffer.byteLength(json));
  head.writeBigUInt64LE(BigInt(Buffer.byteLength(json)), 0);
  head.write(json, 8);
  const file = await open(path, 'w');
  try {
    await file.write(head, 0, head.length, 0);
    let position = head.length;
    for (const t of tensors) {
      const data = Float32Array.from(t.data);
      await file.write(new Uint8Array(data.buffer), 0, data.byteLength, position);
      position += data.byteLength;
    }
  } finally {
    await file.close();
  }
}

async function generate(dir: string, o: Options): Promise<void> {
  const { dim: d, layers, models } = o;
  const layer = (l: number) => `layers.${l}`;
  const baseWeights = Array.from({ length: layers }, (_, l) => normals(100 + l)(d * d).map((v) => v / Math.sqrt(d)));
  const baseBiases = Array.from({ length: layers }, (_, l) => normals(200 + l)(d).map((v) => 0.1 * v));
  const model = (weights: Float64Array[], biases: Float64Array[]) =>
    weights.flatMap((w, l) => [
      { name: `${layer(l)}.weight`, shape: [d, d], data: w },
      { name: `${layer(l)}.bias`, shape: [d], data: biases[l] },
    ]);
  await writeSafetensors(join(dir, 'base.safetensors'), model(baseWeights, baseBiases));
  const sharedG = Array.from({ length: layers }, (_, l) => sharedFactor(d, 300 + l));
  const sharedA = Array.from({ length: layers }, (_, l) => sharedFactor(d, 400 + l));
  for (let i = 1; i <= models; i++) {
    // Task vectors of about a tenth of the weights' scale.
    const weights = baseWeights.map((w, l) => {
      const tau = normals(1000 * i + l)(d * d);
      return w.map((v, k) => v + (0.1 * tau[k]) / Math.sqrt(d));
    });
    const biases = baseBiases.map((b, l) => {
      const tau = normals(2000 * i + l)(d);
      return b.map((v, k) => v + 0.01 * tau[k]);
    });
    await writeSafetensors(join(dir, `task${i}.safetensors`), model(weights, biases));
    const stats = Array.from({ length: layers }, (_, l) => [
      { name: `${layer(l)}.weight::grad_gram`, shape: [d, d], data: taskFactor(sharedG[l], d, 3000 * i + l) },
      { name: `${layer(l)}.weight::input_gram`, shape: [d, d], data: taskFactor(sharedA[l], d, 4000 * i + l) },
    ]).flat();
    await writeSafetensors(join(dir, `task${i}.stats.safetensors`), stats);
  }
}

function config(o: Options, preconditioner: string, out: string): string {
  return [
    'method: mats',
    'base: base.safetensors',
    'models:',
    ...Array.from({ length: o.models }, (_, i) => `  - {path: task${i + 1}.safetensors, stats: task${i + 1}.stats.safetensors}`),
    `parameters: {subspace: kfac, preconditioner: ${preconditioner}, rtol: ${o.rtol}, iterations: 100000}`,
    `precision: ${o.precision}`,
    'backend: cpu',
    `output: {path: ${out}}`,
    '',
  ].join('\n');
}

function run(args: string[], cwd: string): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stderr }));
  });
}

interface Row {
  preconditioner: string;
  wall: number;
  solveSeconds: number;
  iterations: number[];
  status: string[];
  relativeResidual: number[];
}

async function measure(dir: string, o: Options, preconditioner: string, k: number): Promise<Row> {
  const name = `merge-${preconditioner}-${k}`;
  await writeFile(join(dir, `${name}.yaml`), config(o, preconditioner, name));
  const t0 = performance.now();
  const r = await run(['merge', `${name}.yaml`, '--quiet', '--json-log', `${name}.jsonl`], dir);
  const wall = (performance.now() - t0) / 1000;
  if (r.code !== 0) throw new Error(`mats merge (${preconditioner}) failed with status ${r.code}:\n${r.stderr}`);
  const lines = (await readFile(join(dir, `${name}.jsonl`), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { name: string; seconds: number; iterations?: number; status?: string; residualNorm?: number; initialResidualNorm?: number });
  const solved = lines.filter((l) => l.iterations !== undefined);
  await rm(join(dir, name), { recursive: true, force: true });
  return {
    preconditioner,
    wall,
    solveSeconds: solved.reduce((s, l) => s + l.seconds, 0),
    iterations: solved.map((l) => l.iterations!),
    status: solved.map((l) => l.status!),
    // Relative to the initial residual; the stopping rule is relative to ||b||.
    relativeResidual: solved.map((l) => l.residualNorm! / l.initialResidualNorm!),
  };
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const dir = o.dir ?? (await mkdtemp(join(tmpdir(), 'mats-kfac-bench-')));
  try {
    const t0 = performance.now();
    await generate(dir, o);
    console.log(`generated ${o.models} models + base, ${o.layers} layers of ${o.dim} x ${o.dim} with K-FAC statistics in ${((performance.now() - t0) / 1000).toFixed(1)} s (${dir})`);
    console.log(`cpu backend: ${createCpuBackend(o.precision).mode}`);
    console.log(`machine: ${cpus().length} cores, load average ${loadavg().map((v) => v.toFixed(2)).join(' ')} (shared: other jobs run at the same time)`);
    console.log(`command: node packages/merge/bin/mats.js merge CONFIG --quiet --json-log LOG  (mats, subspace kfac, rtol ${o.rtol}, ${o.precision}, cpu, init task_arithmetic 0.3)\n`);
    const rows: Row[] = [];
    for (let k = 0; k < o.repeat; k++) for (const p of o.preconditioners) rows.push(await measure(dir, o, p, k));
    console.log('| preconditioner | wall time (s) | solve time (s) | CG iterations per layer | status | final / initial residual |');
    console.log('|---|---|---|---|---|---|');
    for (const r of rows) {
      console.log(
        `| ${r.preconditioner} | ${r.wall.toFixed(2)} | ${r.solveSeconds.toFixed(2)} | ${r.iterations.join(', ')} | ${[...new Set(r.status)].join(', ')} | ${r.relativeResidual.map((v) => v.toExponential(1)).join(', ')} |`,
      );
    }
    console.log(`\nload average after: ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
  } finally {
    if (!o.keep) await rm(dir, { recursive: true, force: true });
    else console.log(`kept ${dir}`);
  }
}

await main();
