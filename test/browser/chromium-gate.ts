/**
 * Gate for the browser test: where Chromium is missing it is skipped and the skip printed
 * with its reason; CI sets MATS_REQUIRE_BROWSER=1 to turn that skip into a failure.
 */
import { describe, it } from 'vitest';
import { chromiumUnavailable } from '../../bench/src/browser/chromium.js';

export const browserRequired = process.env.MATS_REQUIRE_BROWSER === '1';

/** describe() when Chromium is installed; otherwise a printed skip, or a failure when required. */
export function describeWithChromium(name: string, body: () => void): void {
  if (chromiumUnavailable === null) {
    describe(name, body);
  } else if (browserRequired) {
    describe(name, () => {
      it('has Chromium (MATS_REQUIRE_BROWSER=1)', () => {
        throw new Error(`MATS_REQUIRE_BROWSER=1 but ${chromiumUnavailable}`);
      });
    });
  } else {
    console.warn(`SKIPPED (no browser): ${name}. ${chromiumUnavailable}`);
    describe(name, () => {
      it.skip(`skipped: ${chromiumUnavailable}`, () => {});
    });
  }
}
