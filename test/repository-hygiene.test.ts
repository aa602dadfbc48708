/**
 * Checks on the repository itself: a merge conflict left in a tracked file once reached main
 * through a README, which no build step reads.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');

describe('repository hygiene', () => {
  it('has no merge-conflict markers in tracked text files', () => {
    const files = execFileSync('git', ['ls-files'], { cwd: root, encoding: 'utf8' }).split('\n').filter((f) => /\.(ts|js|cjs|mjs|json|md|yaml|yml|html|py|sh)$|^\.ci\//.test(f));
    expect(files.length).toBeGreaterThan(50);
    const offenders = files.filter((f) => /^(<{7}|>{7}) |^={7}$/m.test(readFileSync(join(root, f), 'utf8')));
    expect(offenders).toEqual([]);
  });
});
