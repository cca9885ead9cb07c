/** The daemon's wire and runner types (shared by the server, the client and the fast path). */

export type Priority = 'high' | 'normal' | 'low';
export const PRIORITIES: readonly Priority[] = ['high', 'normal', 'low'];

/** What `POST /v1/runs` takes: the same inputs `aionctl run` takes. */
export interface RunRequest {
  /** What `aionctl run` accepts: a package directory (relative to cwd), later an installed name or reference. */
  package: string;
  input: unknown;
  timeoutMs?: number;
  /** The caller's working directory (relative package paths resolve against it). */
  cwd: string;
  priority?: Priority;
  /** Secret names to pass (as `aionctl run --env`); default: every secret the manifest lists. */
  env?: string[];
  /** Directory grants (as `--dir HOST[:GUEST][:ro|:rw]`). */
  dirs?: string[];
  sandbox?: 'auto' | 'bwrap' | 'none';
  /** The caller's environment, where secrets are read from (never logged; only listed secrets reach a module). */
  environment?: Record<string, string>;
}

/** The result envelope of `aionctl run --json` (the run library's), the same from the daemon and in-process. */
export type { RunEnvelope } from '../run/index.js';
import type { RunEnvelope } from '../run/index.js';

export interface PoolStats {
  key: string;
  runtime: string;
  min: number;
  max: number;
  size: number;
  busy: number;
  waiting: number;
  started: number;
  replaced: number;
  recycled: number;
}

export interface CacheStats {
  name: string;
  entries: number;
  bytes: number;
  maxBytes: number;
  hits: number;
  misses: number;
}

export interface RunContext {
  correlationId: string;
  signal?: AbortSignal;
  /** GPU devices pinned for this run (CUDA_VISIBLE_DEVICES value), when the package asked for one. */
  gpu?: string[];
}

/** What the daemon needs from the run library: one function that turns a request into an envelope. */
export interface Runner {
  run(request: RunRequest, context: RunContext): Promise<RunEnvelope>;
  /** Files whose change must drop cached state (package manifests, schemas, modules). */
  watched(): string[];
  /** Drops whatever was derived from `path`; returns the cache keys dropped. */
  invalidate(path: string): string[];
  pools(): PoolStats[];
  caches(): CacheStats[];
  close(): Promise<void>;
}

/** `GET /healthz`. */
export interface Health {
  ok: true;
  pid: number;
  version: string;
  buildId: string;
  protocol: number;
}

/** `GET /v1/status` and `aionctl daemon status --json`. */
export interface DaemonStatus {
  running: true;
  pid: number;
  socket: string;
  version: string;
  buildId: string;
  store: string;
  startedAt: string;
  uptimeMs: number;
  runs: { total: number; ok: number; failed: number; inFlight: number };
  queue: Record<Priority, number> & { max: number };
  draining: boolean;
  idleTimeoutMs: number;
  rss: number;
  heapUsed: number;
  caches: CacheStats[];
  pools: PoolStats[];
  gpus: { index: number; uuid: string; name: string; memoryFreeMiB: number; busy: boolean }[];
}

export const PROTOCOL = 1;
