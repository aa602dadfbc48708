import typed from 'typed-function';
import { describe, expect, it } from 'vitest';

// The hand-written declarations in src/types/typed-function.d.ts must describe the runtime
// library: these calls type-check against them and behave as declared.
describe('typed-function declarations', () => {
  it('create() gives an isolated instance whose types do not leak into the default one', () => {
    const local = typed.create();
    local.addType({ name: 'Celsius', test: (x) => typeof x === 'object' && x !== null && 'celsius' in x });
    const describeValue = local('describeValue', {
      Celsius: (x: { celsius: number }) => `${x.celsius} C`,
      number: (x: number) => `number ${x}`,
    });
    expect(describeValue({ celsius: 20 })).toBe('20 C');
    expect(describeValue(3)).toBe('number 3');
    expect(local.isTypedFunction(describeValue)).toBe(true);
    expect(() => typed('other', { Celsius: () => 0 })).toThrow(/Celsius/);
  });

  it('resolve names the implementation a call reaches, and null when none matches', () => {
    const local = typed.create();
    const f = local('f', { number: (x: number) => x + 1, string: (s: string) => s.length });
    expect(local.resolve(f, [1])?.fn(1)).toBe(2);
    expect(local.resolve(f, [true])).toBeNull();
    expect(Object.keys(f.signatures).sort()).toEqual(['number', 'string']);
  });

  it('referToSelf recurses through the typed function', () => {
    const local = typed.create();
    const depth = local('depth', {
      number: () => 0,
      Array: local.referToSelf((self) => (xs: unknown[]) => 1 + Math.max(0, ...xs.map((x) => self(x)))),
    });
    expect(depth([1, [2, [3]]])).toBe(3);
  });
});
