/** The bench's command line: --help lists instead of running; bad options and sections are named. */
import { describe, expect, it } from 'vitest';
import { parseBenchOptions, SECTIONS, USAGE } from '../src/options.js';

describe('npm run bench options', () => {
  it('--help asks for the usage, which lists every section and option', () => {
    expect(parseBenchOptions(['--help']).help).toBe(true);
    for (const s of SECTIONS) expect(USAGE).toContain(s);
    for (const o of ['--quick', '--only', '--backend', '--note', '--out']) expect(USAGE).toContain(o);
  });

  it('parses --only, repeated --backend, --note and --quick', () => {
    const o = parseBenchOptions(['--only', 'eigh,merge', '--backend', './a.js', '--backend', 'pkg', '--note', 'idle', '--quick']);
    expect([...o.only!]).toEqual(['eigh', 'merge']);
    expect(o.backends).toEqual(['./a.js', 'pkg']);
    expect(o.note).toBe('idle');
    expect(o.quick).toBe(true);
    expect(o.help).toBe(false);
  });

  it('names an unknown section or option, and a missing value', () => {
    expect(() => parseBenchOptions(['--only', 'eigh,gemv'])).toThrow(/--only gemv: unknown section; expected some of gemm/);
    expect(() => parseBenchOptions(['--fast'])).toThrow(/unknown option --fast/);
    expect(() => parseBenchOptions(['--backend'])).toThrow(/--backend needs a value/);
  });
});
