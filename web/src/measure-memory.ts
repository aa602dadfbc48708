/**
 * `npm run web:memory [-- GB]`: merges three generated checkpoints of GB gigabytes each (default
 * 1) with task arithmetic in the page, in Debian's Chromium, and reports the browser's memory
 * before and at its peak during the merge (the proportional set size of all its processes, and
 * the resident set of the largest) against the bytes read and written:
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

interface MemorySample {
  /** Sum over the browser's processes of their proportional set size (shared pages split between sharers). */
  readonly pss: number;
  /** The largest process's resident set, and which process it is (Chromium's --type, or 'browser'). */
  readonly largest: number;
  readonly largestType: string;
}

/** Memory of every process whose command line names the browser's profile folder (Linux /proc). */
function browserMemory(profileMarker: string): MemorySample {
  let pss = 0;
  let largest = 0;
  let largestType = '';
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!cmdline.includes(profileMarker)) continue;
      const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
      const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? 0) * 1024;
      pss += kb('Pss');
      if (kb('Rss') > largest) {
        largest = kb('Rss');
        largestType = /--type=([\w-]+)/.exec(cmdline)?.[1] ?? 'browser';
      }
    } catch {
      // The process ended while we looked.
    }
  }
  return { pss, largest, largestType };
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
  const before = browserMemory('mats-chromium-');
  let peak = before;
  const poll = setInterval(() => {
    const now = browserMemory('mats-chromium-');
    peak = { pss: Math.max(peak.pss, now.pss), ...(now.largest > peak.largest ? { largest: now.largest, largestType: now.largestType } : { largest: peak.largest, largestType: peak.largestType }) };
  }, 100);
  const started = performance.now();
  const state = await clickAndWait(page, '#merge', ['done', 'failed'], 3_600_000);
  const seconds = (performance.now() - started) / 1000;
  clearInterval(poll);
  if (state !== 'done') throw new Error(`the merge failed: ${await page.textContent('#error')}`);
  const inputBytes = 3 * tensors * 4096 * 4096 * 4;
  const outputBytes = tensors * 4096 * 4096 * 4;
  const gb = (b: number) => `${(b / 1e9).toFixed(2)} GB`;
  process.stdout.write(
    `task_arithmetic of 3 checkpoints in the page: ${gb(inputBytes)} read, ${gb(outputBytes)} written to OPFS in ${seconds.toFixed(1)} s\n` +
      `${await page.textContent('#summary')}\n` +
      `browser memory, before the merge -> peak during it: ${gb(before.pss)} -> ${gb(peak.pss)} proportional set size over all its processes; ` +
      `largest process ${gb(before.largest)} (${before.largestType}) -> ${gb(peak.largest)} (${peak.largestType}) resident\n`,
  );
} finally {
  await browser.close();
  await server.close();
  await rm(dir, { recursive: true, force: true });
  await rm(site, { recursive: true, force: true });
}
