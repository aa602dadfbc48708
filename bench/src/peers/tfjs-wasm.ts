/**
 * @tensorflow/tfjs-backend-wasm's matMul (float32 only; XNNPACK kernels), with the build it
 * really runs: SIMD and threads are feature-detected by tfjs at startup. In Node its
 * multithreaded build is not used (WASM_HAS_MULTITHREAD_SUPPORT is false there), which this
 * module reports rather than assumes.
 */
import { timeIt, type TimingOptions } from '../timing.js';

export interface TfjsWasm {
  /** e.g. "tfjs-backend-wasm 4.22.0, SIMD, 1 thread" */
  description: string;
  /** Best seconds of one n x n float32 matMul, result read back. */
  matmulSeconds(n: number, timing: TimingOptions): number;
}

export async function loadTfjsWasm(): Promise<TfjsWasm | { skipped: string }> {
  try {
    const tf = await import('@tensorflow/tfjs-core');
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    await tf.setBackend('wasm');
    await tf.ready();
    if (tf.getBackend() !== 'wasm') return { skipped: `tfjs picked backend ${tf.getBackend()}, not wasm` };
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    const threadsSupported = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
    const threads = wasm.getThreadsCount();
    const description =
      `tfjs-backend-wasm ${wasm.version_wasm}, ${simd ? 'SIMD' : 'no SIMD'}, ` +
      `${threads} thread${threads === 1 ? '' : 's'}${threadsSupported ? '' : ' (its threaded build is not used in Node)'}`;
    return {
      description,
      matmulSeconds(n, timing) {
        const a = tf.randomUniform([n, n], -1, 1, 'float32');
        const b = tf.randomUniform([n, n], -1, 1, 'float32');
        const t = timeIt(() => {
          const c = tf.matMul(a, b);
          c.dataSync();
          c.dispose();
        }, timing);
        a.dispose();
        b.dispose();
        return t.best;
      },
    };
  } catch (e) {
    return { skipped: `tfjs-backend-wasm failed to load: ${(e as Error).message}` };
  }
}
