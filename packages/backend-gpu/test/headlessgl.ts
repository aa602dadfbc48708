/**
 * Gate for the suites that need headless-gl (the real WebGL code path in Node). Where the `gl`
 * package is not built or no X display is up, they are skipped, and the skip is printed with
 * its reason. CI sets MATS_REQUIRE_HEADLESSGL=1: the suite then fails instead of skipping, so
 * a broken gl build cannot turn the GPU tests silently green.
 */
import { describe, it } from 'vitest';
import { unavailableReason } from '../src/index.js';

export const headlessGlUnavailable: string | null = unavailableReason('headlessgl');
export const headlessGlRequired = process.env.MATS_REQUIRE_HEADLESSGL === '1';

/** describe() when headless-gl runs here; otherwise a printed skip, or a failure when required. */
export function describeWithHeadlessGl(name: string, body: () => void): void {
  if (headlessGlUnavailable === null) {
    describe(name, body);
  } else if (headlessGlRequired) {
    describe(name, () => {
      it('has a headless-gl context (MATS_REQUIRE_HEADLESSGL=1)', () => {
        throw new Error(`MATS_REQUIRE_HEADLESSGL=1 but headlessgl cannot run: ${headlessGlUnavailable}`);
      });
    });
  } else {
    // The body is not collected: it would create backends the skipped tests never use.
    console.warn(`SKIPPED (no headless-gl): ${name}. ${headlessGlUnavailable}`);
    describe(name, () => {
      it.skip(`skipped, no headless-gl: ${headlessGlUnavailable}`, () => {});
    });
  }
}
