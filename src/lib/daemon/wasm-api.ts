/**
 * The few WebAssembly JS API members the daemon uses, typed locally: tsconfig's `lib` has no DOM and @types/node 20
 * does not declare the global namespace, and a local type avoids clashing with another module's global declaration.
 */
export type WasmModule = object;
export interface WasmInstance {
  exports: Record<string, unknown>;
}
export interface WasmApi {
  Module: {
    new (bytes: Uint8Array): WasmModule;
    imports(module: WasmModule): { module: string; name: string; kind: string }[];
  };
  instantiate(module: WasmModule, imports: object): Promise<WasmInstance>;
}
export const Wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
