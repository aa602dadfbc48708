/**
 * `npm run web:memory [-- GB]`: merges three generated checkpoints of GB gigabytes each (default
 * 1) with task arithmetic in the page, in Debian's Chromium, and reports the browser's peak
 * resident memory (all its processes, and the largest one) against the bytes read and written:
 * the page reads tensors with File.slice and writes the output to OPFS, so neither the inputs
 * nor the output need to fit in its memory.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchChromium } from '@mats/bench/browser/chromium';
import { buildBundle } from '@mats/bench/browser/page-build';
import { serveDirectory } from '@mats/bench/browser/static-server';
import { writeExampleInputs } from './example-inputs.js';
import { clickAndWait, fillMergeForm, openMergePage } from './page-driver.js';
import { SITE } from './site.js';

/** Resident bytes of every process whose command line names the browser's profile folder. */
function browserRss(profileMarker: string): { total: number; largest: number } {
  let total = 0;
  let largest = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(profileMarker)) continue;
      const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
      total += kb * 1024;
      largest = Math.max(largest, kb * 1024);
    } catch {
      // The process ended while we looked.
    }
  }
  return { total, largest };
}

const gigabytes = Number(process.argv[2] ?? 1);
// Tensors of [4096, 4096] float32 (64 MiB each), as many as make the size.
const tensors = Math.max(1, Math.round((gigabytes * 1e9) / (4096 * 4096 * 4)));
const shapes = Object.fromEntries(Array.from({ length: tensors }, (_, i) => [`layers.${i}.weight`, [4096, 4096]]));
const dir = await mkdtemp(join(tmpdir(), 'mats-web-memory-'));
const site = await buildBundle({ ...SITE, sourcemap: false });
const server = await serveDirectory(site);
const browser = await launchChromium();
try {
  await writeExampleInputs(dir, shapes, false);
  const page = await openMergePage(browser.context, server.url, (e) => process.stderr.write(`page error: ${e}\n`));
  await fillMergeForm(page, dir, { method: 'task_arithmetic' });
  let peak = { total: 0, largest: 0 };
  const poll = setInterval(() => {
    const now = browserRss('mats-chromium-');
    peak = { total: Math.max(peak.total, now.total), largest: Math.max(peak.largest, now.largest) };
  }, 100);
  const started = performance.now();
  const state = await clickAndWait(page, '#merge', ['done', 'failed']);
  const seconds = (performance.now() - started) / 1000;
  clearInterval(poll);
  if (state !== 'done') throw new Error(`the merge failed: ${await page.textContent('#error')}`);
  const inputBytes = 3 * tensors * 4096 * 4096 * 4;
  const outputBytes = tensors * 4096 * 4096 * 4;
  const gb = (b: number) => `${(b / 1e9).toFixed(2)} GB`;
  process.stdout.write(
    `task_arithmetic of 3 checkpoints in the page: ${gb(inputBytes)} read, ${gb(outputBytes)} written to OPFS in ${seconds.toFixed(1)} s\n` +
      `${await page.textContent('#summary')}\n` +
      `peak resident memory of the browser: ${gb(peak.total)} over all its processes, ${gb(peak.largest)} in the largest\n`,
  );
} finally {
  await browser.close();
  await server.close();
  await rm(dir, { recursive: true, force: true });
  await rm(site, { recursive: true, force: true });
}
