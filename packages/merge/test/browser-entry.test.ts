/**
 * @mats/merge/browser bundles for a browser as it is: no node: module is reachable from it
 * (esbuild refuses node: imports on platform 'browser'), because the package.json "browser"
 * field swaps io/node-io.ts for io/node-io.browser.ts, which has the same exports.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { browserBundleModules } from '../../../bench/src/browser/page-build.js';
import * as browserStub from '../src/io/node-io.browser.js';
import * as nodeIo from '../src/io/node-io.js';

const packageRoot = fileURLToPath(new URL('..', import.meta.url));

describe('@mats/merge/browser', () => {
  it('bundles for the browser with no node: module and no file-system I/O in it', async () => {
    const { modules, imports } = await browserBundleModules('@mats/merge/browser', packageRoot, ['@mats/source']);
    expect(modules.some((i) => i.endsWith('packages/merge/src/pipeline/plan.ts'))).toBe(true);
    expect(modules.some((i) => i.endsWith('packages/merge/src/io/node-io.browser.ts'))).toBe(true);
    expect(modules.filter((i) => /node-io\.ts|node-input-files|node-output-target|cli-progress|node:/.test(i))).toEqual([]);
    expect(imports.filter((p) => p.startsWith('node:'))).toEqual([]);
  });

  it('gets a stand-in for node-io with the same exports, each failing with what to pass instead', async () => {
    expect(Object.keys(browserStub).sort()).toEqual(Object.keys(nodeIo).sort());
    expect(Object.keys(browserStub.nodeInputFiles).sort()).toEqual(Object.keys(nodeIo.nodeInputFiles).sort());
    expect(Object.keys(browserStub.nodeOutputTarget).sort()).toEqual(Object.keys(nodeIo.nodeOutputTarget).sort());
    expect(() => browserStub.nodeInputFiles.resolve('', 'x')).toThrow(/needs a file system, and there is none in a browser; pass inputs and an output explicitly/);
    await expect(browserStub.nodeInputFiles.open('x')).rejects.toThrow(/in a browser/);
    await expect(browserStub.nodeOutputTarget.create('x', false)).rejects.toThrow(/in a browser/);
    await expect(browserStub.createNodeFile('x', 1)).rejects.toThrow(/in a browser/);
  });
});
