/**
 * Finds and compiles the WebAssembly kernels that `npm run build` compiles from assembly/
 * (AssemblyScript) into dist-wasm/kernels.wasm. The path is resolved from this file, which
 * sits at the same depth under src/ (vitest runs the sources) and dist/ (the built package).
 */
import { nodeBuiltins } from './node-builtins.js';
import { wasmApi, type WasmModule } from './webassembly-api.js';

/** The compiled module, or why there is none. */
export type KernelModule = { module: WasmModule; error?: undefined } | { module?: undefined; error: string };

export const KERNEL_WASM_URL = new URL('../../dist-wasm/kernels.wasm', import.meta.url);

function compile(): KernelModule {
  if (!wasmApi) return { error: 'this JavaScript engine has no WebAssembly' };
  if (!nodeBuiltins) return { error: 'the WebAssembly kernels are loaded from a file, which needs Node' };
  let bytes: Uint8Array;
  try {
    bytes = nodeBuiltins.fs.readFileSync(KERNEL_WASM_URL);
  } catch (e) {
    return { error: `cannot read ${KERNEL_WASM_URL.pathname} (${(e as Error).message}); run \`npm run build\` to compile it` };
  }
  try {
    // Synchronous compilation: the module is a few kilobytes, and Node allows it at any size.
    return { module: new wasmApi.Module(bytes) };
  } catch (e) {
    return {
      error: `${KERNEL_WASM_URL.pathname} does not compile here (${(e as Error).message}); it needs WebAssembly SIMD and threads (Node >= 16.4)`,
    };
  }
}

let cached: KernelModule | undefined;

/** The kernel module, compiled on first use. */
export function kernelModule(): KernelModule {
  cached ??= compile();
  return cached;
}
