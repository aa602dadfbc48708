/** The version the engine records in output metadata is the package's. */
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { PACKAGE_VERSION } from '../src/version.js';

it('PACKAGE_VERSION equals the version in package.json', () => {
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  expect(PACKAGE_VERSION).toBe(version);
});
