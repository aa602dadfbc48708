import type { CpuBackend, CpuTensor } from '@mats/backend-cpu';
import type { Mlp } from './mlp.js';

/** What the backward pass needs from the forward pass, per layer l. */
export interface ForwardPass {
  readonly batch: number;
  /** a_l [batch, in_l]: layer l's inputs (the batch itself for l = 0, then ReLU outputs). */
  readonly inputs: readonly CpuTensor[];
  /** z_l [batch, out_l]: layer l's outputs before the ReLU; the last one holds the logits. */
  readonly outputs: readonly CpuTensor[];
}

/**
 * z_l = a_l W_l^T + b_l, a_{l+1} = relu(z_l). The products run as backend gemms (nearly all
 * the work); the bias and ReLU are elementwise loops over the tensors' host arrays, since the
 * Backend interface has no elementwise nonlinearity.
 */
export function forward(mlp: Mlp, x: CpuTensor /* [batch, in] */): ForwardPass {
  const b = mlp.backend;
  const batch = x.shape[0];
  const inputs: CpuTensor[] = [x];
  const outputs: CpuTensor[] = [];
  mlp.layers.forEach((layer, l) => {
    const out = layer.weight.shape[0];
    const z = b.zeros([batch, out]) as CpuTensor;
    b.gemm('N', 'T', 1, inputs[l], layer.weight, 0, z);
    addBiasToRows(z.data, layer.bias.data, batch, out);
    outputs.push(z);
    if (l + 1 < mlp.layers.length) inputs.push(relu(b, z));
  });
  return { batch, inputs, outputs };
}

/** Per-layer gradients of a scalar with respect to the parameters. */
export interface ParameterGradients {
  readonly weights: readonly CpuTensor[]; // [out_l, in_l]
  readonly biases: readonly CpuTensor[]; // [out_l]
}

export interface BackwardPass {
  /** delta_l [batch, out_l]: the gradient with respect to z_l, row n for example n. */
  readonly outputGradients: readonly CpuTensor[];
  /** Summed over the batch: W_l's gradient delta_l^T a_l, b_l's the column sums of delta_l. */
  readonly parameters?: ParameterGradients;
}

/**
 * Backpropagation from the gradient with respect to the logits, [batch, classes]:
 * delta_{l-1} = (delta_l W_l) .* relu'(z_{l-1}).
 * For training, pass the loss's gradient (its batch mean included); for statistics, the
 * per-example log-likelihood gradients, and skip the parameter gradients.
 */
export function backward(mlp: Mlp, pass: ForwardPass, logitGradients: CpuTensor, withParameterGradients: boolean): BackwardPass {
  const b = mlp.backend;
  const L = mlp.layers.length;
  const deltas: CpuTensor[] = new Array(L);
  const weights: CpuTensor[] = new Array(L);
  const biases: CpuTensor[] = new Array(L);
  deltas[L - 1] = logitGradients;
  for (let l = L - 1; l >= 0; l--) {
    const layer = mlp.layers[l];
    const [out, inputs] = layer.weight.shape;
    if (withParameterGradients) {
      weights[l] = b.zeros([out, inputs]) as CpuTensor;
      b.gemm('T', 'N', 1, deltas[l], pass.inputs[l], 0, weights[l]);
      biases[l] = b.fromArray(columnSums(deltas[l].data, pass.batch, out), [out]) as CpuTensor;
    }
    if (l > 0) {
      const previous = b.zeros([pass.batch, inputs]) as CpuTensor;
      b.gemm('N', 'N', 1, deltas[l], layer.weight, 0, previous);
      maskByPositive(previous.data, pass.outputs[l - 1].data);
      deltas[l - 1] = previous;
    }
  }
  return withParameterGradients ? { outputGradients: deltas, parameters: { weights, biases } } : { outputGradients: deltas };
}

function addBiasToRows(z: Float64Array | Float32Array, bias: Float64Array | Float32Array, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    const offset = r * cols;
    for (let c = 0; c < cols; c++) z[offset + c] += bias[c];
  }
}

function relu(b: CpuBackend, z: CpuTensor): CpuTensor {
  const a = b.zeros(z.shape) as CpuTensor;
  const src = z.data;
  const dst = a.data;
  for (let i = 0; i < z.size; i++) dst[i] = src[i] > 0 ? src[i] : 0;
  return a;
}

/** g <- g .* (z > 0): the ReLU's derivative (0 at z = 0, as in PyTorch). */
function maskByPositive(g: Float64Array | Float32Array, z: Float64Array | Float32Array): void {
  for (let i = 0; i < g.length; i++) if (!(z[i] > 0)) g[i] = 0;
}

function columnSums(x: Float64Array | Float32Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c] += x[r * cols + c];
  return out;
}
