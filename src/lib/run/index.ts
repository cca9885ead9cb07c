/** Running agent packages: WASM (WASI, in a sandboxed Node host) and sandboxed subprocesses, JSON in and out. */
export {
  type DirGrant,
  type GpuAllocator,
  type ModuleCache,
  type HostProfile,
  type HostProvider,
  type PackageIdentity,
  type RunContext,
  type RunEnvelope,
  type RunError,
  type RunEvent,
  type RunLimits,
  type Runnable,
  type RunnableSource,
  type RunRequest,
  type RuntimeKind,
  type SandboxKind,
  type SandboxMode,
  type WasmHost,
  type WasmJob,
  type WasmResult,
} from './types.js';
export { runPackage, preparedModule, DEFAULT_MODULE_CACHE_BYTES } from './runner.js';
export { resolveRunnable, findInstalled, directoryDigest, INSTALLED_DIR } from './resolve.js';
export { compileSchemas, schemaCacheSize, type CompiledSchemas } from './schemas.js';
export { createWasmHost, hostArgv, HOST_SCRIPT } from './wasm-host.js';
export { inspectModule, prepareModule, type InspectedModule, WASI_MODULE, WASM_PAGE } from './wasm-module.js';
export { detectSandbox, INSTALL_HINT, type SandboxTools } from './sandbox.js';
export {
  computeLimits,
  grantDirs,
  grantSecrets,
  parseDirGrant,
  parseQuantity,
  redact,
  DEFAULT_OUTPUT_BYTES,
  DEFAULT_TIMEOUT_MS,
} from './policy.js';
export { PACKAGE_GUEST, SCRATCH_GUEST } from './layout.js';
export { INPUT_ERROR_CODE, INPUT_ERROR_HINT, inputErrorMessage } from './input.js';
