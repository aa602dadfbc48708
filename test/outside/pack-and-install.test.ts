/**
 * The packages as users get them: packed with `npm pack`, installed in an empty folder outside
 * the repository (test/outside/install.ts). There the `mats` bin runs, merges with the
 * installed core and CPU backend (its WebAssembly kernels included), and every entry point
 * imports in plain Node ESM and type-checks in TypeScript under node16, nodenext and bundler
 * resolution with the strictest common compiler settings.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SafetensorsFile, writeSafetensorsFile } from '@mats/merge';
import { randomSpd, referenceSpdSolve } from '@mats/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { browserBundleModules } from '../../bench/src/browser/page-build.js';
import type { InstallStatus } from './install.js';
import { REPO, STRICTEST, installed, run, typecheck } from './harness.js';
import { readmeFaults } from './readme-paths.js';

let status: InstallStatus;
let app: string;

beforeAll(async () => {
  status = await installed();
  app = status.app;
});

const packageJson = (p: string) => JSON.parse(readFileSync(join(REPO, 'packages', p, 'package.json'), 'utf8')) as { version: string; name: string };
const npx = (args: string[], cwd: string) => run('npx', ['--no-install', ...args], cwd);

describe('the packed tarballs', () => {
  it('hold the built code, the declarations, the WebAssembly kernels and the bin', () => {
    console.log(`npm pack of ${status.packs.length} packages: ${status.seconds.pack.toFixed(1)} s; npm install of the tarballs: ${status.seconds.install.toFixed(1)} s`);
    const files = Object.fromEntries(status.packs.map((p) => [p.name, new Set(p.files)]));
    for (const [name, wanted] of Object.entries({
      '@mats/core': ['package.json', 'README.md', 'dist/index.js', 'dist/index.d.ts', 'dist/testing/index.js', 'dist/testing/index.d.ts'],
      '@mats/backend-cpu': ['package.json', 'dist/index.js', 'dist/index.d.ts', 'dist-wasm/kernels.wasm', 'native/blas.c', 'scripts/build-native.mjs'],
      '@mats/backend-gpu': ['package.json', 'README.md', 'dist/index.js', 'dist/index.d.ts'],
      '@mats/merge': ['package.json', 'README.md', 'bin/mats.js', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', 'dist/browser.js', 'dist/browser.d.ts', 'dist/io/node-io.browser.js'],
    })) {
      expect(files[name], `${name} was not packed`).toBeDefined();
      expect(wanted.filter((f) => !files[name]!.has(f)), `${name} lacks`).toEqual([]);
    }
  });

  it('READMEs point only to files their package ships, or say the file is in the source repository', () => {
    for (const pack of status.packs) {
      if (!pack.files.includes('README.md')) continue;
      const readme = readFileSync(join(REPO, 'packages', pack.name.replace('@mats/', ''), 'README.md'), 'utf8');
      expect(readmeFaults(readme, pack.files), `${pack.name}'s README`).toEqual([]);
    }
  });
});

describe('installed in an empty folder', () => {
  it('npx mats --version prints the version of @mats/merge', async () => {
    const r = await npx(['mats', '--version'], app);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(packageJson('merge').version);
  });

  it('npx mats merge CONFIG merges by MaTS in the Gram subspace, to the closed form', async () => {
    const dir = join(app, 'merge-case');
    mkdirSync(dir, { recursive: true });
    const [out, inp] = [3, 4];
    // Values exact in float32 (multiples of 1/8), so the float64 merge below is the reference's.
    const weight = (seed: number) => Float64Array.from({ length: out * inp }, (_, i) => ((((i + 1) * 7919 + seed * 104729) % 33) - 16) / 8);
    const grams = [randomSpd(inp, 11, 0.5), randomSpd(inp, 12, 0.5)];
    const model = (seed: number) => [
      { name: 'layer.weight', dtype: 'F32' as const, shape: [out, inp], data: Float32Array.from(weight(seed)) },
      { name: 'layer.bias', dtype: 'F32' as const, shape: [out], data: Float32Array.from([seed, -seed, 0.5]) },
    ];
    await writeSafetensorsFile(join(dir, 'base.safetensors'), model(0));
    for (const t of [1, 2]) {
      await writeSafetensorsFile(join(dir, `task${t}.safetensors`), model(t));
      await writeSafetensorsFile(join(dir, `task${t}.stats.safetensors`), [{ name: 'layer.weight::input_gram', dtype: 'F64', shape: [inp, inp], data: grams[t - 1]! }]);
    }
    const config = ['method: mats', 'base: base.safetensors', 'models:', '  - path: task1.safetensors', '    stats: task1.stats.safetensors', '  - path: task2.safetensors', '    stats: task2.stats.safetensors'];
    config.push('parameters:', '  subspace: gram', 'precision: float64', 'output:', '  path: merged', '  dtype: float64', '');
    writeFileSync(join(dir, 'merge.yaml'), config.join('\n'));

    const r = await npx(['mats', 'merge', 'merge.yaml'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^merged layer\.weight \[3, 4\] F64 in [\d.]+ s \(gram, converged/m);

    // RegMean's closed form: W (A1 + A2) = W1 A1 + W2 A2, row by row.
    const sum = grams[0]!.map((v, i) => v + grams[1]![i]!);
    const rhs = new Float64Array(out * inp);
    for (const [t, a] of [[1, grams[0]!], [2, grams[1]!]] as const) {
      const w = weight(t);
      for (let i = 0; i < out; i++) for (let j = 0; j < inp; j++) for (let k = 0; k < inp; k++) rhs[i * inp + j]! += w[i * inp + k]! * a[k * inp + j]!;
    }
    const expected = Array.from({ length: out }, (_, i) => referenceSpdSolve(sum, rhs.subarray(i * inp, (i + 1) * inp), inp)).flatMap((row) => [...row]);
    const merged = await SafetensorsFile.open(join(dir, 'merged', 'model.safetensors'));
    try {
      const got = await merged.readFloats('layer.weight', 'float64');
      const error = Math.hypot(...expected.map((v, i) => v - got[i]!));
      expect(error).toBeLessThanOrEqual(1e-10 * Math.hypot(...expected));
      const bias = await merged.readFloats('layer.bias', 'float64');
      expect(Array.from(bias)).toEqual([1.5, -1.5, 0.5]); // the average of the two models' biases
    } finally {
      await merged.close();
    }
  });

  it('imports every entry point in plain Node ESM, and solves on the WebAssembly kernels', async () => {
    const script = `
      import { KroneckerOperator, solve, sumOf, describeOperator } from '@mats/core';
      import { spdOperator, describeOperatorConformance } from '@mats/core/testing';
      import { createCpuBackend } from '@mats/backend-cpu';
      import { createGpuBackend } from '@mats/backend-gpu';
      import { runMerge, PACKAGE_VERSION } from '@mats/merge';
      const backend = createCpuBackend('float64');
      const spd = (n, s) => Float64Array.from({ length: n * n }, (_, k) => (k % (n + 1) === 0 ? 4 + s : 1 / (1 + k)));
      const sym = (m, n) => m.map((_, k) => 0.5 * (m[k] + m[(k % n) * n + Math.floor(k / n)]));
      const terms = [1, 2, 3].map((s) => new KroneckerOperator(backend.fromArray(sym(spd(3, s), 3), [3, 3]), backend.fromArray(sym(spd(2, s), 2), [2, 2]), { psd: true }));
      const result = solve(sumOf(terms), backend.fromArray(new Float64Array(6).fill(1), [3, 2]), { rtol: 1e-10 });
      const gpu = createGpuBackend();
      console.log(JSON.stringify({
        mode: backend.mode, status: result.status, method: result.method, operator: describeOperator(terms[0]),
        gpu: gpu.dtype, version: PACKAGE_VERSION,
        kinds: [typeof spdOperator, typeof describeOperatorConformance, typeof runMerge],
      }));`;
    writeFileSync(join(app, 'check.mjs'), script);
    const r = await run(process.execPath, ['check.mjs'], app);
    expect(r.code, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(got).toMatchObject({ status: 'converged', method: 'pcg', operator: 'kronecker [3, 2]', gpu: 'float32', version: packageJson('merge').version });
    expect(got.kinds).toEqual(['function', 'function', 'function']);
    // The kernels in dist-wasm shipped: without them the backend would fall back to TypeScript.
    expect(String(got.mode)).toMatch(/^wasm-simd/);
  });

  it('bundles @mats/merge/browser for a browser with no node: module (the package.json "browser" field swaps the file-system I/O)', async () => {
    const { modules, imports } = await browserBundleModules('@mats/merge/browser', app);
    expect(modules.some((m) => m.endsWith('node_modules/@mats/merge/dist/io/node-io.browser.js')), modules.join('\n')).toBe(true);
    expect(modules.filter((m) => /\/node-io\.js$|node-input-files|node-output-target|node:/.test(m))).toEqual([]);
    expect(imports.filter((p) => p.startsWith('node:'))).toEqual([]);
  });

  it('merges Blobs into Blobs through @mats/merge/browser, as its README shows', async () => {
    const script = `
      import { BlobInputFiles, BlobOutputTarget, SafetensorsFile, parseConfig, planMerge, runMerge, serializeSafetensors } from '@mats/merge/browser';
      const model = (v) => new Blob([serializeSafetensors([{ name: 'w', dtype: 'F32', shape: [2], data: Float32Array.from(v) }])]);
      const inputs = new BlobInputFiles([['base.safetensors', model([1, 1])], ['math.safetensors', model([3, 0])]]);
      const output = new BlobOutputTarget();
      const config = parseConfig('method: task_arithmetic\\nbase: base.safetensors\\nmodels: [{path: math.safetensors, weight: 0.5}]\\noutput: {path: merged}\\n', 'merge.yaml', '', { inputs });
      const plan = await planMerge(config, { io: { inputs, output } });
      await runMerge(plan).finally(() => plan.close());
      const bytes = new Uint8Array(await output.outputs.get('merged').get('model.safetensors').arrayBuffer());
      const file = await SafetensorsFile.read({ path: 'model.safetensors', size: bytes.length, read: async (t, p) => t.set(bytes.subarray(p, p + t.length)), close: async () => {} });
      console.log(JSON.stringify([...(await file.readFloats('w', 'float64'))]));`;
    writeFileSync(join(app, 'blob-merge.mjs'), script);
    const r = await run(process.execPath, ['blob-merge.mjs'], app);
    expect(r.code, r.stderr).toBe(0);
    // task arithmetic: base + 0.5 (math - base) = [1 + 0.5 * 2, 1 + 0.5 * -1]
    expect(JSON.parse(r.stdout)).toEqual([2, 0.5]);
  });

  it('type-checks a consumer under nodenext, node16 and bundler resolution, strictest settings, skipLibCheck off', async () => {
    const dir = join(app, 'typescript');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'consumer.ts'),
      `import { KroneckerOperator, solve, sumOf, type LinearOperator, type SolveResult, type Backend } from '@mats/core';
import { describeOperatorConformance, spdOperator, type OperatorKindGenerator } from '@mats/core/testing';
import { createCpuBackend } from '@mats/backend-cpu';
import { createGpuBackend } from '@mats/backend-gpu';
import { loadConfig, runMerge, type MergeConfig } from '@mats/merge';

export function solveOne(backend: Backend, g: Float64Array, a: Float64Array): SolveResult {
  const op: LinearOperator = new KroneckerOperator(backend.fromArray(g, [2, 2]), backend.fromArray(a, [2, 2]), { psd: true });
  return solve(op, backend.fromArray(new Float64Array(4).fill(1), [2, 2]));
}
export const cpu: Backend = createCpuBackend('float64');
export const gpu: Backend = createGpuBackend();
export const kit = [describeOperatorConformance, spdOperator] as const;
export type Kind = OperatorKindGenerator<{ n: number }>;
export type Config = MergeConfig;
export const merge = [runMerge, loadConfig] as const;
export const sum = (ops: LinearOperator[]): LinearOperator => sumOf(ops);
// Types resolve (not any): a wrong call is an error.
// @ts-expect-error solve needs an operator
solve('not an operator', cpu.zeros([1]));
`,
    );
    const configs: Record<string, object> = {
      nodenext: { module: 'nodenext', moduleResolution: 'nodenext' },
      node16: { module: 'node16', moduleResolution: 'node16' },
      bundler: { module: 'esnext', moduleResolution: 'bundler' },
    };
    await Promise.all(
      Object.entries(configs).map(([name, resolution]) => {
        writeFileSync(join(dir, `tsconfig.${name}.json`), JSON.stringify({ compilerOptions: { ...STRICTEST, ...resolution }, files: ['consumer.ts'] }, null, 2));
        return typecheck(`tsconfig.${name}.json`, dir);
      }),
    );
  });
});
