/** The CLI in process: exit status 2 on an internal error; progress modes. */
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { createProgress } from '../src/cli/progress.js';
import { runCli } from '../src/cli/run-cli.js';
import { defineMethod } from '../src/methods/method.js';
import { registerMethod } from '../src/methods/registry.js';
import { randomModel, writeModelFile } from './fixtures.js';
import { captureStream as capture, tempFolder } from './helpers.js';

registerMethod(
  defineMethod({
    name: 'test_bug',
    summary: 'test only',
    parameters: z.strictObject({}),
    requiresBase: () => false,
    elementwise: () => false,
    async merge() {
      throw new TypeError('cannot read properties of undefined');
    },
  }),
);

describe('runCli', () => {
  it('exits 2 on an internal error, without the stack unless --verbose, and removes the partial output', async () => {
    const dir = await tempFolder();
    await writeModelFile(join(dir, 'a.safetensors'), randomModel(1));
    await writeFile(join(dir, 'c.yaml'), 'method: test_bug\nmodels: [{path: a.safetensors}]\noutput: {path: out}\n');
    const stdout = capture();
    const stderr = capture();
    expect(await runCli(['merge', join(dir, 'c.yaml'), '--quiet'], { stdout, stderr })).toBe(2);
    expect(stderr.text).toMatch(/^internal error: cannot read properties of undefined\nthis is a bug in mats; run again with --verbose/);
    const verbose = capture();
    expect(await runCli(['merge', join(dir, 'c.yaml'), '--quiet', '--verbose'], { stdout, stderr: verbose })).toBe(2);
    expect(verbose.text).toMatch(/TypeError: cannot read properties of undefined\n\s+at /);
    const { readdir } = await import('node:fs/promises');
    expect((await readdir(dir)).sort()).toEqual(['a.safetensors', 'c.yaml']);
  });

  it('prints help and version with status 0', async () => {
    const stdout = capture();
    expect(await runCli(['--help'], { stdout, stderr: capture() })).toBe(0);
    expect(stdout.text).toMatch(/^ {2}merge CONFIG \[OUTPUT\] +merge the models/m);
    expect(stdout.text).toMatch(/^methods: average, task_arithmetic, ties, /m);
  });
});

describe('progress', () => {
  it('draws a bar with ETA on a terminal', () => {
    const stream = capture(true);
    const p = createProgress(stream, 'bar');
    p.onEvent({ type: 'phase', label: 'merge', totalBytes: 1000 });
    p.onEvent({ type: 'progress', doneBytes: 500, totalBytes: 1000 });
    p.stop();
    expect(stream.text).toMatch(/merge +\[.*\] \d+% \| ETA /);
  });

  it('writes plain lines otherwise, and only messages when quiet', () => {
    const lines = capture();
    const p = createProgress(lines, 'lines');
    p.onEvent({ type: 'tensor', name: 'w', method: 'mats', shape: [2, 3], dtype: 'F32', seconds: 0.5, chunks: 1, report: { status: 'converged', iterations: 12 } });
    expect(lines.text).toBe('merged w [2, 3] F32 in 0.500 s (converged, 12 iterations)\n');
    const quiet = capture();
    const q = createProgress(quiet, 'quiet');
    q.onEvent({ type: 'tensor', name: 'w', method: 'copy', shape: [1], dtype: 'I64', seconds: 0, chunks: 1 });
    q.onEvent({ type: 'log', message: 'note' });
    expect(quiet.text).toBe('note\n');
  });
});
