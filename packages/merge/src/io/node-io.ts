/**
 * The merge's I/O in Node: the file system. The engine's modules take it as their default.
 *
 * Bundlers building for a browser swap this module for node-io.browser.ts (the "browser" field
 * of this package's package.json), so no node: module enters a browser bundle; there the caller
 * passes its own MergeIo (blob-files.ts, blob-output.ts, or the web app's).
 */
import { existsSync } from 'node:fs';
import type { ByteSink, MergeIo } from './files.js';
import { nodeInputFiles } from './node-input-files.js';
import { NodeFileSink, nodeOutputTarget } from './node-output-target.js';

export { nodeInputFiles, nodeOutputTarget };

/** A file on its own (not part of an output folder), created or truncated at `size` bytes. */
export const createNodeFile = (path: string, size: number): Promise<ByteSink> => NodeFileSink.create(path, size);

/** Whether anything is at path, synchronously (a mergekit config's missing model gets a hint while it is converted). */
export const pathExistsSync = (path: string): boolean => existsSync(path);

export const nodeIo: MergeIo = { inputs: nodeInputFiles, output: nodeOutputTarget };
