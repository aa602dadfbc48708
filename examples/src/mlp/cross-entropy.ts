import type { CpuBackend, CpuTensor } from '@mats/backend-cpu';
import { logLikelihoodGradients } from '@mats/merge';

/**
 * Mean softmax cross-entropy of a batch, -(1/B) sum_n log p(y_n | z_n), and its gradient with
 * respect to the logits z [B, classes]: (softmax(z) - onehot(y)) / B. The gradient is the
 * statistics' log-likelihood gradient with the sign and the mean applied, so training and
 * statistics share one derivation.
 */
export function crossEntropy(backend: CpuBackend, logits: CpuTensor, labels: Int32Array): { loss: number; gradient: CpuTensor } {
  const [batch, classes] = logits.shape;
  const z = logits.data;
  let loss = 0;
  for (let r = 0; r < batch; r++) {
    const offset = r * classes;
    let max = -Infinity;
    for (let c = 0; c < classes; c++) max = Math.max(max, z[offset + c]);
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += Math.exp(z[offset + c] - max);
    loss += Math.log(sum) + max - z[offset + labels[r]];
  }
  const gradient = backend.fromArray(logLikelihoodGradients(z, classes, labels), [batch, classes]) as CpuTensor;
  backend.scal(-1 / batch, gradient);
  return { loss: loss / batch, gradient };
}
