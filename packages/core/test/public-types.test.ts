import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// typed-function ships no types: ours live in src/types/typed-function.d.ts, which consumers of
// dist never see. So no declaration reachable from the public entry points may mention it.
const dist = fileURLToPath(new URL('../dist/', import.meta.url));

function reachable(entry: string, seen = new Set<string>()): Set<string> {
  if (seen.has(entry)) return seen;
  seen.add(entry);
  const text = readFileSync(entry, 'utf8');
  for (const [, relative] of text.matchAll(/from '(\.{1,2}\/[^']+)\.js'/g)) reachable(normalize(join(dirname(entry), `${relative}.d.ts`)), seen);
  return seen;
}

describe('public type declarations', () => {
  it('never reference typed-function, from either entry point', () => {
    const entries = ['index.d.ts', 'testing/index.d.ts'].map((e) => join(dist, e));
    for (const e of entries) expect(existsSync(e), `${e} is missing: run npm run build first`).toBe(true);
    const files = new Set(entries.flatMap((e) => [...reachable(e)]));
    expect(files.size).toBeGreaterThan(20);
    const offenders = [...files].filter((f) => readFileSync(f, 'utf8').includes("'typed-function'"));
    expect(offenders).toEqual([]);
  });
});
