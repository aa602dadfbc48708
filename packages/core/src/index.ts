export type { Backend, DType, HostArray, HostLinalg, PreparedOperator, Shape, SymmetricEigen, Tensor, Transpose } from './backend/backend.js';
export {
  DisposedTensorError,
  DTypeMismatchError,
  ForeignTensorError,
  NotPositiveDefiniteError,
  ShapeError,
} from './backend/errors.js';
export { checkHostLength, checkOperands, checkRange, checkSameSize, describeBackend, elementwiseOperands } from './backend/checks.js';
export { formatShape, sameShape, shapeSize } from './backend/shape.js';
export { gemmDims } from './backend/gemm-shape.js';
export type { GemmDims } from './backend/gemm-shape.js';

// Operators
export type { LinearOperator, OperatorTags } from './operators/linear-operator.js';
export { blockSize, describeOperator, isLinearOperator, tagsOf } from './operators/linear-operator.js';
export { IdentityOperator } from './operators/identity.js';
export { DiagonalOperator } from './operators/diagonal.js';
export type { DiagonalOperatorOptions } from './operators/diagonal.js';
export { DenseOperator } from './operators/dense.js';
export type { DenseOperatorOptions } from './operators/dense.js';
export { ScaledOperator } from './operators/scaled.js';
export { SumOperator } from './operators/sum.js';
export { KroneckerOperator, type KroneckerOptions } from './operators/kronecker.js';
export { GramOperator } from './operators/gram.js';
export type { FactorOptions } from './operators/factor-options.js';
export { BlockDiagonalOperator } from './operators/block-diagonal.js';
export { InvalidOperatorError } from './operators/host-matrix.js';
export { NoDiagonalError, denseOf } from './operators/dense-of.js';
export { disposeOperator } from './operators/dispose.js';

// Dispatch
export { add, diagonal, preconditioner, scale, solve, sumOf } from './dispatch/api.js';
export { dispatchRule, registerOperatorKind, unregisterOperatorKind } from './dispatch/registration.js';
export type { DispatchFunction } from './dispatch/registration.js';
export type { OperatorRules } from './dispatch/operator-rules.js';
export { TwoKroneckerInverse } from './dispatch/two-kronecker.js';
export { kroneckerApproximationWeights } from './dispatch/kronecker-approximation.js';
export type { KroneckerApproximation } from './dispatch/kronecker-approximation.js';

// Solver
export { pcg, pcgMany } from './dispatch/pcg-api.js';
export { pcgMixedPrecision } from './dispatch/mixed-precision.js';
export { LARGE_FACTOR_ORDER, LOW_RANK, LowRankKroneckerPreconditioner, kroneckerBySize, lowRankKronecker } from './dispatch/low-rank-kronecker.js';
export type { MixedPrecisionOptions, MixedPrecisionResult } from './dispatch/mixed-precision.js';
export { LowPrecisionOperator, lowPrecisionOperator } from './operators/low-precision.js';
export type {
  PcgManyOptions,
  PcgOptions,
  PcgProgress,
  PcgResult,
  PcgStatus,
  PreconditionerChoice,
  PreconditionerName,
  ReferenceSettings,
} from './solver/pcg-types.js';
export type { ClosedFormCheck, SolveOptions, SolveResult } from './solver/solve-types.js';

// Spectrum estimates (diagnostics)
export { denseExtremes, lanczosExtremes, tridiagonalEigenvalues } from './spectrum/lanczos-extremes.js';
export type { SpectrumEstimate } from './spectrum/lanczos-extremes.js';
