/**
 * The "Write your own operator" tutorial (packages/core/examples/your-operator), run as a user
 * runs it: copied into the folder the packed packages are installed in, compiled under strict
 * TypeScript (exactOptionalPropertyTypes, skipLibCheck off) and run with vitest there. Then the
 * mutation test: each bug of test/outside/mutations.ts planted in a copy of it must fail the
 * kit at the conformance check that names it, with the likely cause in its message.
 *
 * One compile and one vitest run cover the clean copy and every mutant (a folder each). The
 * kit's fast-check seed is fixed for that run (a setup file), so the run is reproducible.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFORMANCE_CHECKS } from '@mats/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO, installed, run, typecheck } from './harness.js';
import { MUTATIONS, type Mutation } from './mutations.js';

const TUTORIAL = join(REPO, 'packages', 'core', 'examples', 'your-operator');
const FILES = ['tridiagonal.ts', 'tridiagonal.test.ts'] as const;
const SEED = 20_240_519;

/** One test of vitest's JSON report. */
interface Assertion {
  ancestorTitles: string[];
  title: string;
  status: 'passed' | 'failed' | 'skipped' | 'pending' | 'todo';
  failureMessages: string[];
}
interface Report {
  testResults: { name: string; status: string; message: string; assertionResults: Assertion[] }[];
}

const slug = (m: Mutation) => m.bug.replace(/\W+/g, '-').toLowerCase();

/** Writes the tutorial's files into dir, with the mutation applied when there is one. */
function writeCopy(dir: string, mutation?: Mutation): void {
  mkdirSync(dir, { recursive: true });
  for (const file of FILES) {
    let text = readFileSync(join(TUTORIAL, file), 'utf8');
    if (mutation?.file === file) {
      const count = text.split(mutation.find).length - 1;
      if (count !== 1) throw new Error(`mutation '${mutation.bug}': ${JSON.stringify(mutation.find)} occurs ${count} times in ${file}, expected once (was the tutorial edited?)`);
      text = text.replace(mutation.find, mutation.replace);
    }
    writeFileSync(join(dir, file), text);
  }
}

let byFolder: Map<string, Assertion[]>;
let seconds: { compile: number; run: number };

beforeAll(async () => {
  const { app } = await installed();
  const kit = join(app, 'kit');
  writeCopy(join(kit, 'tutorial'));
  for (const m of MUTATIONS) writeCopy(join(kit, slug(m)), m);
  writeFileSync(
    join(kit, 'tsconfig.json'),
    JSON.stringify(
      {
        compilerOptions: {
          strict: true,
          exactOptionalPropertyTypes: true,
          skipLibCheck: false,
          noEmit: true,
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'ES2022',
          lib: ['ES2023'],
          types: ['node'],
        },
        include: ['**/*.ts'],
      },
      null,
      2,
    ),
  );
  writeFileSync(join(kit, 'seed.ts'), `import fc from 'fast-check';\nfc.configureGlobal({ seed: ${SEED} });\n`);
  writeFileSync(join(kit, 'vitest.config.ts'), `import { defineConfig } from 'vitest/config';\nexport default defineConfig({ test: { setupFiles: ['./seed.ts'], testTimeout: 300_000 } });\n`);

  let t = performance.now();
  await typecheck('tsconfig.json', kit);
  const compile = (performance.now() - t) / 1000;
  t = performance.now();
  const r = await run(process.execPath, [join(app, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--reporter=json', '--outputFile=report.json'], kit);
  seconds = { compile, run: (performance.now() - t) / 1000 };
  if (!existsSync(join(kit, 'report.json'))) throw new Error(`vitest wrote no report (exit ${r.code}):\n${r.stderr.slice(-3000)}\n${r.stdout.slice(-2000)}`);
  const report = JSON.parse(readFileSync(join(kit, 'report.json'), 'utf8')) as Report;
  byFolder = new Map(report.testResults.map((f) => [f.name.split('/').at(-2)!, f.assertionResults]));
  if (byFolder.size !== MUTATIONS.length + 1) throw new Error(`vitest ran ${byFolder.size} test files, expected ${MUTATIONS.length + 1} (exit ${r.code}):\n${r.stderr.slice(-3000)}`);
});

/** The conformance check of this name, in each dtype. */
const conformance = (tests: Assertion[], check: string) => tests.filter((a) => a.title === check && a.ancestorTitles.some((t) => t.endsWith('operator conformance')));

describe('the tutorial, outside the workspace', () => {
  it('compiles under strict TypeScript and passes the conformance suite and the solver properties', () => {
    const tests = byFolder.get('tutorial')!;
    const failed = tests.filter((a) => a.status === 'failed');
    expect(failed.map((a) => `${a.title}\n${a.failureMessages[0]}`)).toEqual([]);
    // Both suites ran, in both dtypes, over the kind's compositions: nothing passed vacuously.
    for (const dtype of ['float64', 'float32']) {
      const suites = new Set(tests.filter((a) => a.status === 'passed').map((a) => a.ancestorTitles.slice(0, 2).join(' > ')));
      expect(suites).toContain(`tridiagonal ${dtype} operator conformance`);
      for (const composition of ['tridiagonal', 'scaled tridiagonal', 'tridiagonal + diagonal', 'block-diagonal of tridiagonal']) {
        expect(suites).toContain(`tridiagonal ${dtype} solver properties > ${composition}`);
      }
    }
    const solveRule = conformance(tests, 'its registered solve rule solves A x = b');
    expect(solveRule.map((a) => a.status)).toEqual(['passed', 'passed']);
    console.log(`operator kit outside the workspace: tsc ${seconds.compile.toFixed(1)} s, vitest (tutorial and ${MUTATIONS.length} mutants) ${seconds.run.toFixed(1)} s`);
  });
});

describe('mutation test: every planted bug fails the kit at the check that names it', () => {
  it('has a check of that name for every bug', () => {
    const names = new Set(CONFORMANCE_CHECKS.map((c) => c.name));
    expect(MUTATIONS.filter((m) => !names.has(m.check)).map((m) => m.check)).toEqual([]);
  });

  for (const m of MUTATIONS) {
    it(m.bug, () => {
      const tests = byFolder.get(slug(m))!;
      const named = conformance(tests, m.check);
      expect(named.map((a) => a.status), `${m.check}, in float64 and float32`).toEqual(['failed', 'failed']);
      for (const a of named) {
        const message = a.failureMessages[0]!;
        expect(message).toMatch(m.message);
        // A few lines, with the operator as a spec, never the backend behind it.
        expect(message.split('\n').length, message).toBeLessThanOrEqual(12);
        expect(message).toMatch(/^\s*operator: .*tridiagonal \[\d+\] float(32|64)/m);
      }
      for (const check of m.passes ?? []) expect(conformance(tests, check).map((a) => a.status), check).toEqual(['passed', 'passed']);
      const alsoFailing = [...new Set(tests.filter((a) => a.status === 'failed' && a.title !== m.check).map((a) => a.title))];
      console.log(`${m.bug}: caught by "${m.check}"; also failing: ${alsoFailing.length ? alsoFailing.join('; ') : 'nothing'}`);
    });
  }
});
