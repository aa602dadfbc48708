/**
 * @mats/core/testing: the kit for people who write backends, operators and solvers.
 * It imports vitest and fast-check; keep it out of production bundles.
 */
export { describeBackendConformance, CONFORMANCE_SIZES, CONFORMANCE_GEMM_SHAPES } from './backend-conformance.js';
export type { BackendConformanceOptions } from './backend-conformance.js';
export { referenceDot, referenceGemm, referenceMatmul, referenceTranspose } from './reference.js';
export { mulberry32, randomArray, randomSpd } from './random.js';
export { assertClose, defaultTolerance, unitRoundoff } from './tolerance.js';
export { describeSolverProperties } from './solver-properties.js';
export type { SolverPropertiesOptions } from './solver-properties.js';
export { OPERATOR_STRUCTURES, describeGenerated, generateKindOperator, generateOperator, spdOperator } from './arbitraries.js';
export type { GeneratedOperator, OperatorSpec, OperatorStructure, SpdOperatorOptions } from './arbitraries.js';
export { KIND_COMPOSITIONS, kindStructure, operatorKind } from './kind-arbitraries.js';
export type { KindComposition, KindOperatorSpec, OperatorKindGenerator } from './kind-arbitraries.js';
export { referenceKronecker, referenceMatVec, referenceSpdSolve, referenceSymmetricEigen } from './reference.js';
export { describeOperatorConformance } from './operator-conformance.js';
export type { OperatorConformanceOptions } from './operator-conformance.js';
export { CONFORMANCE_CHECKS } from './conformance-checks.js';
export type { ConformanceCheck, Subject } from './conformance-checks.js';
export { CheckFailure } from './check-failure.js';
export type { CheckReport } from './check-failure.js';
export { PropertyFailure } from './property-runner.js';
export { countAllocations } from './count-allocations.js';
export { matrixOfApply } from './matrices.js';
