/**
 * One list of methods: the registry. Every other place that lists them is generated from it
 * (the merge README's knob table) or checked against it here (docs/DESIGN.md, docs/METHODS.md).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { methodsMarkdown } from '../src/cli/describe-methods.js';
import { methodNames } from '../src/methods/registry.js';

const read = (path: string) => readFileSync(new URL(path, import.meta.url), 'utf8');

describe('the registry is the one list of methods', () => {
  it('the merge README\'s knob table is the one mats methods --markdown generates', () => {
    const readme = read('../README.md');
    const m = /<!-- methods-table:start[^\n]*-->\n([\s\S]*?)\n<!-- methods-table:end -->/.exec(readme);
    expect(m, 'the README has the methods-table markers').not.toBeNull();
    // On a mismatch: npx mats methods --markdown, between the markers.
    expect(m![1]).toBe(methodsMarkdown());
    // One table: no blank line splits it.
    expect(m![1].split('\n').every((line) => line.startsWith('|'))).toBe(true);
  });

  it('docs/DESIGN.md names every registered method, in registry order', () => {
    const m = /^- Methods: ([a-z_, ]+)\. /m.exec(read('../../../docs/DESIGN.md'));
    expect(m, 'DESIGN.md §6 has its "- Methods: a, b, ..." line').not.toBeNull();
    expect(m![1].split(', ')).toEqual(methodNames());
  });

  it('docs/METHODS.md has a bullet for every registered method and none for another', () => {
    const text = read('../../../docs/METHODS.md');
    const sections = text.split(/^## /m).filter((s) => s.startsWith('Baselines') || s.startsWith('Task-subspace methods'));
    expect(sections).toHaveLength(2);
    const bullets = sections.flatMap((s) => [...s.matchAll(/^- ([a-z_]+)[ :(]/gm)].map((b) => b[1]));
    expect([...bullets].sort()).toEqual([...methodNames()].sort());
  });
});
