/**
 * `npm run web:screenshot`: the README's picture of the page (docs/web-merge.png), taken in
 * Debian's Chromium after a MaTS merge of the generated example models, so it shows the page as
 * it is today.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '@mats/bench/browser/chromium';
import { buildBundle } from '@mats/bench/browser/page-build';
import { serveDirectory } from '@mats/bench/browser/static-server';
import { writeExampleInputs } from './example-inputs.js';
import { clickAndWait, fillMergeForm, openMergePage } from './page-driver.js';
import { SITE } from './site.js';

const target = fileURLToPath(new URL('../../docs/web-merge.png', import.meta.url));
const dir = await mkdtemp(join(tmpdir(), 'mats-web-screenshot-'));
const site = await buildBundle({ ...SITE, sourcemap: false });
const server = await serveDirectory(site);
const browser = await launchChromium();
try {
  await writeExampleInputs(dir);
  const page = await openMergePage(browser.context, server.url, (e) => process.stderr.write(`page error: ${e}\n`));
  await page.setViewportSize({ width: 900, height: 800 });
  await fillMergeForm(page, dir, { method: 'mats', stats: true, knobs: { subspace: 'kfac', iterations: '40' }, dtype: 'bfloat16' });
  const state = await clickAndWait(page, '#merge', ['done', 'failed']);
  if (state !== 'done') throw new Error(`the merge failed: ${await page.textContent('#error')}`);
  // Two frames: the last messages' text is laid out and painted before the picture is taken.
  // (The function runs in the page; Node's types have no requestAnimationFrame.)
  await page.evaluate('new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))');
  await page.screenshot({ path: target, fullPage: true });
  process.stdout.write(`wrote ${target}\n`);
} finally {
  await browser.close();
  await server.close();
  await rm(dir, { recursive: true, force: true });
  await rm(site, { recursive: true, force: true });
}
