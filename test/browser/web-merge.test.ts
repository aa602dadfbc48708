/**
 * The merge page (web/) in Debian's Chromium, driven as a person would: models picked as a
 * file and as folders (sharded checkpoints), statistics files, a method and its knobs; the dry
 * run, the merge in the worker, the downloads. Each download must be byte for byte what
 * `mats merge` writes for the config the page shows, run beside the same files; the dry run
 * must print what `mats merge --dry-run` prints; a corrupt file must get the CLI's message; a
 * cancelled merge must leave nothing behind. Needs `npm run build` (the CLI's bin) first.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SafetensorsFile } from '@mats/merge';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { launchChromium, type LaunchedBrowser } from '../../bench/src/browser/chromium.js';
import { buildBundle } from '../../bench/src/browser/page-build.js';
import { serveDirectory, type StaticServer } from '../../bench/src/browser/static-server.js';
import { EXAMPLE_FOLDER_FILES, writeExampleInputs } from '../../web/src/example-inputs.js';
import { clickAndWait, downloadAll, fillMergeForm, openMergePage, type MergeChoice } from '../../web/src/page-driver.js';
import { SITE } from '../../web/src/site.js';
import { mats, requireBuiltBin } from '../mats-bin.js';
import { describeWithChromium } from './chromium-gate.js';

/** Where two output files differ (a metadata key, the layout, a tensor's bytes), or undefined when they are byte for byte the same. */
async function difference(name: string, a: Buffer, b: Buffer): Promise<string | undefined> {
  if (Buffer.compare(a, b) === 0) return undefined;
  if (!name.endsWith('.safetensors')) return `${name}:\n${a.toString()}\nvs\n${b.toString()}`;
  const open = (bytes: Buffer) => SafetensorsFile.read({ path: name, size: bytes.length, read: async (t, p) => t.set(bytes.subarray(p, p + t.length)), close: async () => undefined });
  const [x, y] = [await open(a), await open(b)];
  const keys = new Set([...Object.keys(x.metadata), ...Object.keys(y.metadata)]);
  const faults = [...keys].filter((k) => x.metadata[k] !== y.metadata[k]).map((k) => `metadata ${k}: ${x.metadata[k]} vs ${y.metadata[k]}`);
  const layout = (f: SafetensorsFile) => JSON.stringify(f.tensors.map((t) => [t.name, t.dtype, t.shape, t.dataOffsets]));
  if (layout(x) !== layout(y)) faults.push(`layout: ${layout(x)} vs ${layout(y)}`);
  for (const t of x.tensors) {
    if (y.has(t.name) && Buffer.compare(Buffer.from(await x.readBytes(t.name)), Buffer.from(await y.readBytes(t.name))) !== 0) faults.push(`${t.name} bytes`);
  }
  return `${name} differs: ${faults.length === 0 ? 'in bytes outside the metadata, layout and tensors' : faults.join('; ')}`;
}

/**
 * The page's dry run next to the CLI's: identical, except for the memory line (a browser reports
 * no resident memory, so the page gives what the merge adds; the CLI adds its process's) and,
 * for an elementwise method, the chunks: the page feeds 2^20 elements where the CLI feeds 2^18
 * (web/worker/merge-worker.ts says why). With equal jobs, what the merge adds is the CLI's.
 */
function expectSamePlan(page: string, cli: string): void {
  const chunkLine = 'jobs: elementwise, in chunks of up to 262144 elements';
  const pageMemory = /^estimated peak memory: the merge (.+) at (\S+), on top of what the page holds already \(a browser does not report that\)$/m;
  const cliMemory = /^estimated peak memory: .+ resident \(this process now .+, the merge (.+) at (\S+)\)$/m;
  const [fromPage, fromCli] = [page.match(pageMemory), cli.match(cliMemory)];
  expect(fromPage, page).not.toBeNull();
  expect(fromCli, cli).not.toBeNull();
  if (!cli.includes(chunkLine)) expect(fromPage!.slice(1)).toEqual(fromCli!.slice(1));
  const sameJobs = cli.replace(chunkLine, 'jobs: elementwise, in chunks of up to 1048576 elements');
  expect(page.replace(pageMemory, '')).toBe(sameJobs.replace(cliMemory, ''));
}

describeWithChromium('the merge page in Chromium (web/, npm run web)', () => {
  let site: string;
  let server: StaticServer;
  let browser: LaunchedBrowser;
  let dir: string;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    requireBuiltBin();
    dir = await mkdtemp(join(tmpdir(), 'mats-web-merge-'));
    await writeExampleInputs(dir);
    site = await buildBundle(SITE);
    server = await serveDirectory(site);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    for (const d of [site, dir]) if (d) await rm(d, { recursive: true, force: true });
  });

  const openPage = (): Promise<Page> => openMergePage(browser.context, server.url, (e) => pageErrors.push(e));

  /** dir's absolute prefix out of a CLI message, so it names files as the page does (relative to the config). */
  const relative = (text: string) => text.split(`${dir}/`).join('');

  const cases: MergeChoice[] = [
    { method: 'ties', knobs: { density: '0.4', sign_election: 'weighted' }, dtype: 'bfloat16', shardSize: '300B' },
    { method: 'fisher', stats: true, storage: 'memory' },
    { method: 'mats', stats: true, knobs: { subspace: 'kfac', iterations: '40' }, dtype: 'float16', shardSize: '500B' },
  ];
  for (const m of cases) {
    it(`${m.method}: the dry run is the CLI's, and every download is byte for byte what mats merge writes`, async () => {
      const page = await openPage();
      try {
        await fillMergeForm(page, dir, m);
        expect(await clickAndWait(page, '#check', ['checked', 'failed']), (await page.textContent('#error')) ?? '').toBe('checked');
        const plan = (await page.textContent('#plan'))!;
        expect(await clickAndWait(page, '#merge', ['done', 'failed']), (await page.textContent('#error')) ?? '').toBe('done');
        const config = (await page.textContent('#config'))!;
        const fromPage = await downloadAll(page, join(dir, `page-${m.method}`));

        // The same config, run by the CLI beside the same files.
        await writeFile(join(dir, 'merge.yaml'), config);
        await rm(join(dir, 'merged'), { recursive: true, force: true });
        // The dry run names the backend's kernels: the page runs the TypeScript ones.
        const dry = await mats(['merge', 'merge.yaml', '--dry-run'], dir, { MATS_CPU_KERNELS: 'typescript' });
        expect(dry.code, dry.stderr).toBe(0);
        expectSamePlan(plan, relative(dry.stdout).trimEnd());
        const cli = await mats(['merge', 'merge.yaml'], dir);
        expect(cli.code, cli.stderr).toBe(0);
        const names = (await readdir(join(dir, 'merged'))).sort();
        expect([...fromPage.keys()].sort()).toEqual(names);
        for (const name of names) {
          const found = await difference(name, fromPage.get(name)!, await readFile(join(dir, 'merged', name)));
          if (found !== undefined) expect.fail(found);
          // Inputs are named relative to the config in both: no path of this machine in the output.
          expect(fromPage.get(name)!.toString('latin1')).not.toContain(dir);
        }
        if (m.shardSize !== undefined) expect(names).toContain('model.safetensors.index.json');
        // The base is a Hugging Face folder: its config (with the output's dtype) and tokenizer files come along.
        for (const file of Object.keys(EXAMPLE_FOLDER_FILES)) expect(names).toContain(file);
        expect(JSON.parse(fromPage.get('config.json')!.toString()).torch_dtype).toBe(m.dtype ?? 'float32');
      } finally {
        await page.close();
      }
      expect(pageErrors).toEqual([]);
    });
  }

  it('a dropped file becomes a model, a second one of the same name gets a name of its own, and both are read', async () => {
    const page = await openPage();
    try {
      await page.setInputFiles('#base-folder', join(dir, 'base'));
      // A drop made by a script has no entries API (folders need a real drag): the file itself is taken.
      const bytes = [...(await readFile(join(dir, 'math.safetensors')))];
      for (let i = 0; i < 2; i++) {
        const data = await page.evaluateHandle((b) => {
          const d = new DataTransfer();
          d.items.add(new File([new Uint8Array(b)], 'dropped.safetensors'));
          return d;
        }, bytes);
        await page.dispatchEvent('#models-drop', 'drop', { dataTransfer: data });
      }
      await page.waitForFunction(() => document.querySelectorAll('#models td.path').length === 2);
      expect(await page.locator('#models td.path').allTextContents()).toEqual(['dropped.safetensors', 'dropped (2).safetensors']);
      expect(await clickAndWait(page, '#check', ['checked', 'failed'])).toBe('checked');
      expect(await page.textContent('#plan')).toContain('models[1]: dropped (2).safetensors (weight 1)');
    } finally {
      await page.close();
    }
  });

  it('a corrupt input gets the message the CLI prints', async () => {
    const corrupt = join(dir, 'corrupt');
    await writeExampleInputs(corrupt);
    const bytes = await readFile(join(corrupt, 'math.safetensors'));
    await writeFile(join(corrupt, 'math.safetensors'), bytes.subarray(0, bytes.length - 10)); // truncated
    const page = await openPage();
    try {
      await fillMergeForm(page, corrupt, { method: 'task_arithmetic' });
      expect(await clickAndWait(page, '#check', ['checked', 'failed'])).toBe('failed');
      const shown = (await page.textContent('#error'))!;
      await writeFile(join(corrupt, 'merge.yaml'), (await page.textContent('#config'))!);
      const cli = await mats(['merge', 'merge.yaml', '--dry-run'], corrupt);
      expect(cli.code).toBe(1);
      expect(shown).toMatch(/^error: cannot merge: 1 problem found before reading any tensor:\n {2}- models\[0\]: math\.safetensors: tensor data runs past the end of the file/);
      expect(shown).toBe(cli.stderr.split(`${corrupt}/`).join('').trimEnd());
      // The merge button says the same, and writes nothing.
      expect(await clickAndWait(page, '#merge', ['done', 'failed'])).toBe('failed');
      expect(await page.textContent('#error')).toBe(shown);
      expect(await page.locator('#download-list a').count()).toBe(0);
    } finally {
      await page.close();
    }
  });

  it('cancel stops the merge and leaves nothing, neither a download nor a file in browser storage', async () => {
    const large = join(dir, 'large');
    // 3 x 24 MB of float32 inputs: long enough that the cancel lands before the end.
    await writeExampleInputs(large, { 'a.weight': [2048, 1024], 'b.weight': [2048, 1024], 'c.weight': [2048, 1024] }, false);
    const page = await openPage();
    try {
      await fillMergeForm(page, large, { method: 'task_arithmetic' });
      await page.click('#merge');
      await page.click('#cancel');
      await page.waitForSelector('body[data-state="cancelled"], body[data-state="done"], body[data-state="failed"]', { timeout: 120_000 });
      expect(await page.getAttribute('body', 'data-state')).toBe('cancelled');
      // The worker's own stop between two jobs (not the page's 5 s fallback), worded as the CLI's Ctrl-C.
      expect(await page.textContent('#error')).toBe('error: merge interrupted; nothing was written');
      expect(await page.textContent('#log')).not.toContain('kept in memory'); // the output went to OPFS
      expect(await page.locator('#download-list a').count()).toBe(0);
      const stored = await page.evaluate(async () => {
        const root = await navigator.storage.getDirectory();
        const names: string[] = [];
        const walk = async (d: FileSystemDirectoryHandle, prefix: string): Promise<void> => {
          for await (const [name, handle] of (d as unknown as { entries(): AsyncIterable<[string, FileSystemHandle]> }).entries()) {
            if (handle.kind === 'directory') await walk(handle as FileSystemDirectoryHandle, `${prefix}${name}/`);
            else names.push(`${prefix}${name}`);
          }
        };
        await walk(root, '');
        return names;
      });
      expect(stored).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
