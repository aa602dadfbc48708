/**
 * Launches Debian's Chromium headless through playwright-core (browser downloads do not work
 * here), with WebGL on SwiftShader, Chromium's software Vulkan device behind ANGLE. Used by
 * the browser test (test/browser) and the browser part of the gpu gemm benchmark.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM_PATH = process.env.MATS_CHROMIUM ?? '/usr/bin/chromium';
export const chromiumUnavailable: string | null = existsSync(CHROMIUM_PATH)
  ? null
  : `no Chromium at ${CHROMIUM_PATH} (apt-get install -y chromium, or set MATS_CHROMIUM)`;

export const CHROMIUM_ARGS = [
  // WebGL without a GPU: ANGLE on SwiftShader. Chromium 12x+ wants the "unsafe" opt-in before
  // it falls back to SwiftShader for WebGL.
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
  '--ignore-gpu-blocklist',
  // No network, no first-run work, no updates: the machine is offline and tests should be quiet.
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--no-default-browser-check',
  // Root in a container has no user namespace for the sandbox.
  '--no-sandbox',
];

export interface LaunchedBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** A headless Chromium with a fresh profile directory, removed again on close. */
export async function launchChromium(): Promise<LaunchedBrowser> {
  const userDataDir = mkdtempSync(join(tmpdir(), 'mats-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

