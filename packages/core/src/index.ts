export type { Backend, DType, HostArray, HostLinalg, Shape, SymmetricEigen, Tensor, Transpose } from './backend/backend.js';
export {
  DisposedTensorError,
  DTypeMismatchError,
  ForeignTensorError,
  NotPositiveDefiniteError,
  ShapeError,
} from './backend/errors.js';
export { checkOperands, checkSameSize, describeBackend } from './backend/checks.js';
export { formatShape, sameShape, shapeSize } from './backend/shape.js';
export { gemmDims } from './backend/gemm-shape.js';
export type { GemmDims } from './backend/gemm-shape.js';
