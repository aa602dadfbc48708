/**
 * node-io.ts as a browser bundle sees it (the "browser" field of package.json): the same
 * exports, each failing with a message that says what to pass instead. A browser has no file
 * system to default to: inputs are File/Blob objects (BlobInputFiles), the output goes to a
 * BlobOutputTarget or the web app's OPFS target.
 */
import type { ByteSink, InputFiles, MergeIo, OutputTarget } from './files.js';

function unavailable(what: string): never {
  throw new Error(`@mats/merge: ${what} needs a file system, and there is none in a browser; pass inputs and an output explicitly (io: { inputs: new BlobInputFiles(...), output: new BlobOutputTarget() })`);
}

export const nodeInputFiles: InputFiles = {
  resolve: () => unavailable('resolving a path'),
  dirname: () => unavailable('resolving a path'),
  isAbsolute: () => unavailable('resolving a path'),
  relative: () => unavailable('resolving a path'),
  join: () => unavailable('resolving a path'),
  kind: async () => unavailable('opening an input'),
  list: async () => unavailable('listing a folder'),
  readText: async () => unavailable('reading a file'),
  open: async () => unavailable('opening an input'),
};

export const nodeOutputTarget: OutputTarget = {
  exists: async () => unavailable('checking the output path'),
  survey: async () => unavailable('checking the output path'),
  removeStale: async () => unavailable('removing a temporary folder'),
  create: async () => unavailable('writing an output'),
};

export const createNodeFile = async (_path: string, _size: number): Promise<ByteSink> => unavailable('writing a file');

export const pathExistsSync = (_path: string): boolean => unavailable('checking a path');

export const nodeIo: MergeIo = { inputs: nodeInputFiles, output: nodeOutputTarget };
