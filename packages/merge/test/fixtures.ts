/** Kept for the tests' relative imports: the helpers live in @mats/merge/testing. */
export * from '../src/testing/fixtures.js';
