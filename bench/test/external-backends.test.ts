/**
 * --backend: a backend that fails core's conformance suite is named with its failures and not
 * timed; one that passes is loaded with its label and dtypes. (Each check runs the suite in a
 * vitest child process, as the bench does.)
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadExternalBackends } from '../src/external-backends.js';

const example = fileURLToPath(new URL('../dist/example-backends/ml-matrix-backend.js', import.meta.url));
const dir = mkdtempSync(path.join(os.tmpdir(), 'mats-bench-backend-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('--backend', () => {
  it('times a backend that passes the conformance suite, under its own name', async () => {
    const { backends, notes } = await loadExternalBackends([example], () => undefined);
    expect(backends.map((b) => b.label)).toEqual(['ml-matrix-example (ml-matrix mmul)']);
    expect(backends[0].dtypes).toEqual(['float64']);
    expect(notes[0]).toMatch(/passes core's backend conformance suite \(\d+ tests\)/);
  }, 300_000);

  it('names a backend whose dot is wrong, with the failing tests, and does not time it', async () => {
    // The example with a broken dot product (a sign error), next to the original.
    const broken = path.join(path.dirname(example), 'broken-dot-backend.js');
    const source = readFileSync(example, 'utf8').replace('s += a.data[i] * b.data[i];', 's -= a.data[i] * b.data[i];');
    expect(source).toContain('s -= a.data[i]');
    writeFileSync(broken, source);
    try {
      const { backends, notes } = await loadExternalBackends([broken], () => undefined);
      expect(backends).toEqual([]);
      expect(notes[0]).toMatch(/broken-dot-backend\.js is not timed: it fails core's conformance suite: \d+ of \d+ conformance tests fail \(.*dot/);
    } finally {
      rmSync(broken, { force: true });
    }
  }, 300_000);

  it('names a module that exports no factory', async () => {
    const empty = path.join(dir, 'empty.mjs');
    writeFileSync(empty, 'export const nothing = 1;\n');
    const { backends, notes } = await loadExternalBackends([empty], () => undefined);
    expect(backends).toEqual([]);
    expect(notes[0]).toMatch(/empty\.mjs is not timed: it fails: the conformance suite (found no tests|did not run)/);
  }, 300_000);
});
