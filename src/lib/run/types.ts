/** The run library's public types: a request in, an envelope out (the command and the daemon share them). */
import type { AionPaths, Env } from '../config/index.js';
import type { AgentPackage } from '../manifest/index.js';
import type { SandboxTools } from './sandbox.js';
import type { GpuRequirement, GpuSelection } from '../gpu/index.js';

export type SandboxMode = 'auto' | 'bwrap' | 'none';

/** One directory grant from `--dir HOST[:GUEST][:ro|:rw]`. */
export interface DirGrant {
  host: string;
  guest: string;
  mode: 'ro' | 'rw';
}

export interface RunRequest {
  /** A package directory, an installed name, `NAME:TAG`, `oci:PATH:TAG` or a registry reference. */
  package: string;
  /** The request, already parsed from JSON; it reaches the module as JSON on stdin. */
  input: unknown;
  /** Lowers `policies.timeout_ms` (never raises it). */
  timeoutMs?: number;
  /** Secret names (from `permissions.secrets`) to pass; default: every secret the manifest lists. */
  env?: string[];
  /** Extra directories (`--dir`), only within what the manifest permits. */
  dirs?: Array<string | DirGrant>;
  sandbox?: SandboxMode;
  /** Output cap in bytes (default 16 MiB). */
  maxOutputBytes?: number;
}

/** Where a warm host comes from: the cold path makes one per run; the daemon pools them per profile. */
export interface HostProvider {
  acquire(profile: HostProfile): Promise<WasmHost>;
  /** Give a host back after a run; `healthy: false` (killed, timed out) means it must not be reused. */
  release(host: WasmHost, healthy: boolean): void;
}

export interface RunContext {
  cwd: string;
  /** The caller's environment: secrets are read from it, nothing else of it reaches the module. */
  env: Env;
  paths: AionPaths;
  signal?: AbortSignal;
  onEvent?: (event: RunEvent) => void;
  hosts?: HostProvider;
  /** Replaces resolveRunnable (the daemon passes a cached one: same result, revalidated by file stamps). */
  resolve?: (spec: string, ctx: RunContext) => Promise<Runnable>;
  /** The node binary for the WASM host (default: the running one). */
  nodePath?: string;
  /** Replaces detectSandbox (the daemon passes a cached one: PATH lookups are not repeated on every run). */
  sandboxTools?: (mode: SandboxMode, env: Env) => SandboxTools;
  /**
   * Hands out GPUs (the daemon's scheduler: waits until devices with enough free memory are free, then pins the
   * run to them; release() when the run ends). Default: discover now and pick (no waiting, no exclusivity).
   */
  gpus?: GpuAllocator;
  /** The prepared-module cache (bounded by bytes); default: this process's own (64 MiB). */
  modules?: ModuleCache;
}

/** A byte-bounded cache of prepared module bytes (the daemon's LruCache satisfies it). */
export interface ModuleCache {
  get(key: string): Uint8Array | undefined;
  set(key: string, value: Uint8Array, bytes: number): void;
}

export type GpuAllocator = (
  requirement: GpuRequirement,
  signal?: AbortSignal,
) => Promise<{ selection: GpuSelection; release(): void } | undefined>;

export type RunEvent =
  | { type: 'resolved'; package: PackageIdentity; source: RunnableSource }
  | { type: 'start'; attempt: number; runtime: RuntimeKind; sandbox: SandboxKind }
  | { type: 'stderr'; data: string }
  | { type: 'retry'; attempt: number; delayMs: number; code: string }
  | { type: 'warning'; message: string };

export type RuntimeKind = 'wasm' | 'subprocess';
export type SandboxKind = 'bwrap' | 'none';
export type RunnableSource = 'directory' | 'installed' | 'store' | 'layout' | 'registry';

export interface PackageIdentity {
  name: string;
  version: string;
  /** sha256 over the package files (directory) or the artifact manifest digest (store, layout, registry). */
  digest: string;
}

export interface RunLimits {
  timeoutMs: number;
  memoryBytes: number;
  cpuSeconds: number;
  maxOutputBytes: number;
  maxStderrBytes: number;
  maxProcesses: number;
  maxOpenFiles: number;
  network: 'deny' | 'allow';
  filesystem: 'deny' | 'read-only' | 'read-write';
  gpus: string[];
}

export interface RunError {
  code: string;
  message: string;
}

export interface RunEnvelope {
  ok: boolean;
  output: unknown;
  error: RunError | null;
  exitCode: number | null;
  durationMs: number;
  attempts: number;
  runtime: RuntimeKind;
  sandbox: SandboxKind;
  package: PackageIdentity;
  limits: RunLimits;
  /** Raw output (size-capped) when it was not JSON or failed the output schema. */
  rawOutput?: string;
  /** The tail of stderr (size-capped, secrets redacted) when the run failed. */
  stderr?: string;
}

/** A package ready to run: its directory on disk, validated manifest and digest. */
export interface Runnable {
  dir: string;
  manifest: AgentPackage;
  identity: PackageIdentity;
  /** sha256 over the files on disk (what caches of validated manifests and compiled schemas are keyed by). */
  contentDigest: string;
  source: RunnableSource;
}

/** What a WASM host is set up with: everything that is fixed per process (the daemon pools per profile). */
export interface HostProfile {
  sandbox: SandboxKind;
  /** Memory cap in WASM pages (64 KiB): `--wasm-max-mem-pages` of the host. */
  memoryPages: number;
  network: 'deny' | 'allow';
  /** Host directories bound into the sandbox: guest path -> host path, ro or rw. */
  binds: Array<{ host: string; guest: string; mode: 'ro' | 'rw' }>;
  cpuSeconds: number;
  maxOpenFiles: number;
  nodePath: string;
  /** Where the host's files live (a private temp dir outside the sandbox); default: os.tmpdir(). */
  tmpDir?: string;
}

/** One run on a WASM host. */
export interface WasmJob {
  digest: string;
  /** The prepared module bytes; may be omitted when the host already has `digest` compiled. */
  module?: Uint8Array;
  stdin: Uint8Array;
  args: string[];
  env: Record<string, string>;
  /** Guest path -> path inside the sandbox. */
  preopens: Record<string, string>;
  timeoutMs: number;
  maxOutputBytes: number;
  maxStderrBytes: number;
  memoryPages: number;
  signal?: AbortSignal;
  onStderr?: (data: string) => void;
}

export interface WasmResult {
  /** 'exit': the module returned/exited; the others are failures the runner maps to EX codes. */
  status: 'exit' | 'timeout' | 'output-cap' | 'trap' | 'memory' | 'denied' | 'cancelled' | 'host-failed';
  exitCode: number | null;
  stdout: Buffer;
  stderr: string;
  message?: string;
  /** WASI calls the host refused (path_open outside preopens, sockets) during the run. */
  denied: string[];
  durationMs: number;
}

export interface WasmHost {
  readonly profile: HostProfile;
  run(job: WasmJob): Promise<WasmResult>;
  /** Whether the host process is alive and can take another job. */
  readonly alive: boolean;
  close(): Promise<void>;
}
