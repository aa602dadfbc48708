/**
 * The slice of the WebAssembly JavaScript API the kernels use, typed here because this
 * package compiles without the DOM library (which is where TypeScript declares WebAssembly).
 */

/** A compiled module; opaque, and shareable with worker threads. */
export interface WasmModule {
  readonly __wasmModule?: never;
}

/** A shared linear memory: its buffer is a SharedArrayBuffer, and grows but never detaches. */
export interface WasmMemory {
  readonly buffer: SharedArrayBuffer;
  grow(deltaPages: number): number;
}

export interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: { env: { memory: WasmMemory } }) => { exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number; maximum: number; shared: true }) => WasmMemory;
}

/** The runtime's WebAssembly object, or undefined where there is none. */
export const wasmApi: WasmApi | undefined = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
