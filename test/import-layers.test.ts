/**
 * The module graph of @mats/core reads one way: dispatch -> solver -> operators -> backend.
 * A cycle once ran solver/pcg -> dispatch/resolve-preconditioner -> registry -> solve-rules ->
 * closed-form-solve -> solver/pcg (issue 13): the PCG loop must know nothing of dispatch, and
 * whoever resolves a preconditioner hands it in. These checks keep it that way.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const src = join(import.meta.dirname, '..', 'packages', 'core', 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [join(dir, e.name)] : [],
  );
}

/** Relative imports and re-exports of a file: [target, typeOnly]. */
function importsOf(file: string): { target: string; typeOnly: boolean }[] {
  const text = readFileSync(file, 'utf8');
  const statements = text.matchAll(/^(?:import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?'(\.{1,2}\/[^']+)'/gm);
  return [...statements].map((m) => ({ target: resolve(dirname(file), m[2]).replace(/\.js$/, '.ts'), typeOnly: Boolean(m[1]) }));
}

const files = sourceFiles(src);
const graph = new Map(files.map((f) => [f, importsOf(f)]));
const name = (f: string) => relative(src, f);

/** Strongly connected components of more than one file (or a file importing itself), by Tarjan's algorithm. */
function cycles(edges: Map<string, string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(name(w));
      } while (w !== v);
      if (component.length > 1 || (edges.get(v) ?? []).includes(v)) found.push(component.sort());
    }
  };
  for (const v of edges.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe('@mats/core module layers', () => {
  it('finds the imports it checks (the scan is not vacuous)', () => {
    expect(files.length).toBeGreaterThan(40);
    const pcgApi = graph.get(join(src, 'dispatch', 'pcg-api.ts'))!;
    expect(pcgApi.map((i) => name(i.target))).toContain('solver/pcg-setup.ts');
    expect(pcgApi.find((i) => name(i.target) === 'solver/pcg-types.ts')?.typeOnly).toBe(true);
  });

  it('has no import cycle (value imports: what runs at module load)', () => {
    const values = new Map([...graph].map(([f, is]) => [f, is.filter((i) => !i.typeOnly && graph.has(i.target)).map((i) => i.target)]));
    expect(cycles(values)).toEqual([]);
  });

  it('the solver imports nothing from dispatch, not even a type', () => {
    const offending = [...graph]
      .filter(([f]) => name(f).startsWith('solver/'))
      .flatMap(([f, is]) => is.filter((i) => name(i.target).startsWith('dispatch/')).map((i) => `${name(f)} -> ${name(i.target)}`));
    expect(offending).toEqual([]);
  });

  it('operators and the backend contract import neither the solver nor dispatch', () => {
    const offending = [...graph]
      .filter(([f]) => /^(operators|backend)\//.test(name(f)))
      .flatMap(([f, is]) => is.filter((i) => /^(solver|dispatch)\//.test(name(i.target))).map((i) => `${name(f)} -> ${name(i.target)}`));
    expect(offending).toEqual([]);
  });
});
