/**
 * @mats/merge/testing: what a test of a merging method needs: small generated checkpoints, the
 * real pipeline run on them in a temporary folder, their tensors read back and compared, and
 * fast-check arbitraries of merge problems. It imports vitest (temporary folders are removed
 * after each test) and fast-check; keep it out of production code.
 */
export { gridValue, mergeProblemArbitrary, modelArbitrary, shapesArbitrary, type MergeProblem, type MergeProblemOptions } from './arbitraries.js';
export { expectTensorsClose } from './expect-tensors.js';
export { randomModel, randomValues, writeModelFile, writeShardedModel, DEFAULT_SHAPES, type Fixture, type FixtureTensor } from './fixtures.js';
export { floatsOf, mergeConfigFile, mergeInMemory, readAllFloats, type HarnessOptions, type HarnessResult } from './merge-harness.js';
export { bytesOf, captureStream, rawFile, tempFolder } from './temp-files.js';
