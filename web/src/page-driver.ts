/**
 * Drives the merge page with playwright as a person would (pick, fill, click, download): for
 * its test (test/browser/web-merge.test.ts) and for the README's screenshot.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';

/** What to fill in: a method, its knobs (by name, as typed or chosen), and the output settings. */
export interface MergeChoice {
  readonly method: string;
  readonly knobs?: Readonly<Record<string, string>>;
  /** Pick math.stats.safetensors and code.stats.safetensors as the models' statistics. */
  readonly stats?: boolean;
  readonly dtype?: string;
  readonly shardSize?: string;
  readonly storage?: 'disk' | 'memory';
}

/** A new tab on the page, once its worker has said which methods there are. */
export async function openMergePage(context: BrowserContext, url: string, onError: (message: string) => void): Promise<Page> {
  const page = await context.newPage();
  page.on('pageerror', (e) => onError(e.message));
  await page.goto(url);
  await page.waitForSelector('body[data-state="ready"]', { timeout: 60_000 });
  return page;
}

/** Picks the example inputs in dir (example-inputs.ts: base/ and code/ as folders, math.safetensors as a file) and fills the form. */
export async function fillMergeForm(page: Page, dir: string, choice: MergeChoice): Promise<void> {
  await page.setInputFiles('#base-folder', join(dir, 'base'));
  await page.setInputFiles('#models-files', join(dir, 'math.safetensors'));
  await page.setInputFiles('#models-folder', join(dir, 'code'));
  await page.selectOption('#method', choice.method);
  await page.locator('#models input.weight').nth(1).fill('0.5');
  if (choice.stats === true) {
    await page.locator('#models input.stats').nth(0).setInputFiles(join(dir, 'math.stats.safetensors'));
    await page.locator('#models input.stats').nth(1).setInputFiles(join(dir, 'code.stats.safetensors'));
  }
  for (const [name, value] of Object.entries(choice.knobs ?? {})) {
    const field = page.locator(`#knobs [name="${name}"]`);
    if ((await field.evaluate((e) => e.tagName)) === 'SELECT') await field.selectOption(value);
    else await field.fill(value);
  }
  await page.selectOption('#dtype', choice.dtype ?? 'same');
  await page.fill('#shard-size', choice.shardSize ?? '5GB');
  await page.selectOption('#storage', choice.storage ?? 'disk');
}

/** Clicks a button and waits (at most timeout ms) until the page reaches one of the states; returns it. */
export async function clickAndWait(page: Page, button: string, states: readonly string[], timeout = 120_000): Promise<string> {
  await page.click(button);
  await page.waitForSelector(states.map((s) => `body[data-state="${s}"]`).join(', '), { timeout });
  return (await page.getAttribute('body', 'data-state'))!;
}

/** Every file the page offers, downloaded as the browser saves it into `into`. */
export async function downloadAll(page: Page, into: string): Promise<Map<string, Buffer>> {
  await mkdir(into, { recursive: true });
  const files = new Map<string, Buffer>();
  const links = page.locator('#download-list a');
  for (let i = 0; i < (await links.count()); i++) {
    const [download] = await Promise.all([page.waitForEvent('download'), links.nth(i).click()]);
    const path = join(into, download.suggestedFilename());
    await download.saveAs(path);
    files.set(download.suggestedFilename(), await readFile(path));
  }
  return files;
}
