/** The README rule of test/outside (a package README points only to what its tarball holds). */
import { describe, expect, it } from 'vitest';
import { readmeFaults } from './outside/readme-paths.js';

const FILES = ['README.md', 'package.json', 'dist/index.js', 'src/methods/ties.ts'];

describe('readmeFaults', () => {
  it('accepts shipped files, URLs, anchors, and files said to be in the source repository', () => {
    const readme = [
      'See [the code](src/methods/ties.ts), [typed-function](https://github.com/josdejong/typed-function) and [below](#install).',
      '',
      'Formulas are in `docs/METHODS.md` of the source repository; `src/methods/` holds the methods.',
      '',
      '<!-- example: examples/kfac-merge.ts -->',
      '```ts',
      "import x from './test/helpers.js';",
      '```',
    ].join('\n');
    expect(readmeFaults(readme, FILES)).toEqual([]);
  });

  it('names links and paths to files the package does not ship', () => {
    const readme = 'Conventions (DESIGN.md §3). This runs as a test (`test/readme-examples.test.ts`); see [docs](docs/METHODS.md).';
    expect(readmeFaults(readme, FILES)).toEqual([
      'link to docs/METHODS.md',
      "'DESIGN.md' named without saying it is in the source repository",
      "'test/readme-examples.test.ts' named without saying it is in the source repository",
      "'docs/METHODS.md' named without saying it is in the source repository",
    ]);
  });

  it("finds what the core README named before issue 19's fix", () => {
    // Two paragraphs of packages/core/README.md as it was.
    const before = [
      'one, by PCG otherwise. Conventions (DESIGN.md §3): a weight is `[out, in]`, row-major; the',
      'K-FAC operator is `W -> G W A`, the Gram operator `W -> W A`.',
      '',
      "is `'jacobi'`, built from the registered diagonal. This example runs as a test",
      "(`test/readme-examples.test.ts`), which also checks that the code above is the file's text and",
    ].join('\n');
    expect(readmeFaults(before, ['README.md', 'package.json', 'dist/index.js'])).toEqual([
      "'DESIGN.md' named without saying it is in the source repository",
      "'test/readme-examples.test.ts' named without saying it is in the source repository",
    ]);
  });
});
