/**
 * This package's version, recorded in every output's metadata. A constant rather than a read of
 * package.json, so that the engine runs where there is no file system (a browser) and records
 * the same version there; test/version.test.ts keeps it equal to package.json's.
 */
export const PACKAGE_VERSION = '0.1.0';
