/**
 * The daemon's runner: the run library's own `runPackage` (the function `aionctl run` calls), given a pool of warm
 * sandboxed WASM hosts (`createWasmHost`) per host profile (runtime + sandbox + memory cap + binds). A host that
 * timed out or died is dropped and replaced on demand; a host is recycled after `maxRuns` runs or `maxRssGrowth`
 * bytes of RSS growth (its process tree, read from /proc); idle hosts beyond the total budget are closed, oldest
 * profile first.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, sep } from 'node:path';
import type { AionPaths, Env } from '../config/index.js';
import {
  createWasmHost,
  detectSandbox,
  DEFAULT_MODULE_CACHE_BYTES,
  type GpuAllocator,
  type HostProfile,
  type HostProvider,
  type RunContext as LibraryContext,
  type Runnable,
  resolveRunnable,
  runPackage,
  type SandboxMode,
  type SandboxTools,
  type WasmHost,
} from '../run/index.js';
import { LruCache } from './lru.js';
import type { CacheStats, PoolStats, RunContext, RunEnvelope, Runner, RunRequest } from './types.js';

export interface LibraryRunnerOptions {
  /** The daemon's environment and paths (store, cache); secrets come from each request's `environment`. */
  env: Env;
  paths: AionPaths;
  nodePath: string;
  /** Max hosts per profile. */
  workers: number;
  /** Max warm hosts over all profiles. */
  maxHosts?: number;
  maxRuns?: number;
  maxRssGrowth?: number;
  /** Byte budget of the resolved-package cache. */
  cacheBytes?: number;
  /** Byte budget of the prepared-module cache (default 64 MiB; the run library's default cache is not used). */
  moduleCacheBytes?: number;
  /** Check a host's RSS growth every this many runs (default 100). */
  rssCheckEvery?: number;
  /** GPU slots (the daemon's GpuScheduler): GPU runs wait for a free device and are pinned to it. */
  gpus?: GpuAllocator;
}

interface Resolved {
  runnable: Runnable;
  /** Every file and directory of the package with its size and mtime: a hit is revalidated against them. */
  stamps: [string, string][];
  /** When the stamps were last compared (performance.now()). */
  checkedAt: number;
}

const MAX_STAMPED = 2000;
const REFERENCE_TTL_MS = 30_000;
/**
 * A hit re-stats the package's files at most this often; in between the watcher drops a changed package as soon as
 * its event arrives. (Re-statting on every hit cost more than the run itself under load.)
 */
const STAMP_RECHECK_MS = 250;
/** Sandbox tool lookups (PATH searches for bwrap, prlimit, setpriv) are kept this long per (mode, PATH). */
const SANDBOX_TTL_MS = 5_000;

function stampOf(path: string): string {
  try {
    const st = statSync(path);
    return `${st.size}:${st.mtimeMs}:${st.ino}`;
  } catch {
    return 'missing';
  }
}

/** The package directory's files and directories with their stamps (undefined when it is too big to track). */
function stampTree(dir: string): [string, string][] | undefined {
  const out: [string, string][] = [[dir, stampOf(dir)]];
  const stack = [dir];
  while (stack.length > 0) {
    const d = stack.pop()!;
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      out.push([path, stampOf(path)]);
      if (out.length > MAX_STAMPED) return undefined;
      if (entry.isDirectory()) stack.push(path);
    }
  }
  return out;
}

interface Slot {
  host: WasmHost;
  runs: number;
  baseRss: number;
}

interface ProfilePool {
  key: string;
  idle: Slot[];
  busy: number;
  waiters: ((slot: Slot | undefined) => void)[];
  started: number;
  replaced: number;
  recycled: number;
  lastUsed: number;
}

/** RSS in bytes of a process and its descendants (Linux /proc; 0 elsewhere). */
export function treeRss(pid: number | undefined): number {
  if (!pid) return 0;
  let total = 0;
  const stack = [pid];
  for (let guard = 0; stack.length > 0 && guard < 64; guard++) {
    const p = stack.pop()!;
    try {
      const statm = readFileSync(`/proc/${p}/statm`, 'utf8').split(' ');
      total += Number(statm[1]) * 4096;
      for (const tid of [p]) {
        const children = readFileSync(`/proc/${p}/task/${tid}/children`, 'utf8').trim();
        if (children) stack.push(...children.split(/\s+/).map(Number));
      }
    } catch {
      // gone, or not Linux
    }
  }
  return total;
}

function hostPid(host: WasmHost): number | undefined {
  return (host as unknown as { pid?: number }).pid;
}

class WarmHosts implements HostProvider {
  readonly pools = new Map<string, ProfilePool>();
  private readonly slots = new WeakMap<WasmHost, Slot>();
  private closed = false;

  constructor(private readonly options: LibraryRunnerOptions) {}

  private pool(key: string): ProfilePool {
    let pool = this.pools.get(key);
    if (!pool) {
      pool = { key, idle: [], busy: 0, waiters: [], started: 0, replaced: 0, recycled: 0, lastUsed: Date.now() };
      this.pools.set(key, pool);
    }
    return pool;
  }

  private total(): number {
    let n = 0;
    for (const p of this.pools.values()) n += p.idle.length + p.busy;
    return n;
  }

  /** Closes idle hosts of the least recently used other profiles until there is room for one more host. */
  private makeRoom(except: ProfilePool): void {
    const max = this.options.maxHosts ?? this.options.workers * 4;
    const others = [...this.pools.values()].filter((p) => p !== except).sort((a, b) => a.lastUsed - b.lastUsed);
    for (const p of others) {
      while (this.total() >= max && p.idle.length > 0) void p.idle.shift()!.host.close();
      if (this.total() < max) return;
    }
  }

  async acquire(profile: HostProfile): Promise<WasmHost> {
    const key = JSON.stringify(profile);
    const pool = this.pool(key);
    pool.lastUsed = Date.now();
    for (;;) {
      const slot = pool.idle.pop();
      if (slot) {
        if (!slot.host.alive) continue;
        pool.busy++;
        return slot.host;
      }
      if (pool.busy < this.options.workers) {
        this.makeRoom(pool);
        pool.busy++;
        pool.started++;
        const host = createWasmHost(profile);
        this.slots.set(host, { host, runs: 0, baseRss: 0 });
        return host;
      }
      const handed = await new Promise<Slot | undefined>((resolve) => pool.waiters.push(resolve));
      if (handed) return handed.host; // busy count was kept for it
    }
  }

  release(host: WasmHost, healthy: boolean): void {
    const pool = this.pools.get(JSON.stringify(host.profile));
    if (!pool) return void host.close();
    const slot = this.slots.get(host) ?? { host, runs: 0, baseRss: 0 };
    slot.runs++;
    if (slot.runs === 1) slot.baseRss = treeRss(hostPid(host));
    let recycle = slot.runs >= (this.options.maxRuns ?? 5000);
    if (!recycle && slot.runs % (this.options.rssCheckEvery ?? 100) === 0)
      recycle = treeRss(hostPid(host)) - slot.baseRss > (this.options.maxRssGrowth ?? 256 * 1024 * 1024);
    if (!healthy || !host.alive || recycle || this.closed) {
      if (healthy && recycle) pool.recycled++;
      else if (!this.closed) pool.replaced++;
      void host.close();
      pool.busy--;
      // The slot is free again: a waiter starts a fresh host.
      const waiter = pool.waiters.shift();
      if (waiter) waiter(undefined);
      return;
    }
    const waiter = pool.waiters.shift();
    if (waiter) waiter(slot);
    else {
      pool.busy--;
      pool.idle.push(slot);
    }
  }

  stats(): PoolStats[] {
    return [...this.pools.values()].map((p) => {
      const profile = JSON.parse(p.key) as HostProfile;
      return {
        key: `wasm:${profile.sandbox}:pages=${profile.memoryPages}:net=${profile.network}:binds=${profile.binds.length}`,
        runtime: 'wasm',
        min: 0,
        max: this.options.workers,
        size: p.idle.length + p.busy,
        busy: p.busy,
        waiting: p.waiters.length,
        started: p.started,
        replaced: p.replaced,
        recycled: p.recycled,
      };
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const closing: Promise<void>[] = [];
    for (const p of this.pools.values()) {
      for (const s of p.idle.splice(0)) closing.push(s.host.close());
      for (const w of p.waiters.splice(0)) w(undefined);
    }
    await Promise.all(closing);
  }
}

class LibraryRunner implements Runner {
  private readonly hosts: WarmHosts;
  private readonly resolved: LruCache<Resolved>;
  private readonly modules: LruCache<Uint8Array>;
  private readonly dirs = new Set<string>();
  private watchedList: string[] | undefined;

  constructor(private readonly options: LibraryRunnerOptions) {
    this.hosts = new WarmHosts(options);
    this.resolved = new LruCache('packages', options.cacheBytes ?? 32 * 1024 * 1024);
    this.modules = new LruCache('modules', options.moduleCacheBytes ?? DEFAULT_MODULE_CACHE_BYTES);
  }

  /**
   * resolveRunnable with a cache: a package resolved before is reused while none of its files changed (sizes,
   * mtimes and inodes of every file and directory are compared on each hit; the watcher also drops it at once).
   * References (installed names, store and registry) are kept at most 30 s, so tag moves and policy edits apply.
   */
  private readonly resolve = async (spec: string, ctx: LibraryContext): Promise<Runnable> => {
    const key = `${ctx.cwd}\0${spec}`;
    const hit = this.resolved.get(key);
    if (hit) {
      const now = performance.now();
      if (now - hit.checkedAt < STAMP_RECHECK_MS) return hit.runnable;
      if (hit.stamps.every(([path, stamp]) => stampOf(path) === stamp)) {
        hit.checkedAt = now;
        return hit.runnable;
      }
      this.resolved.delete(key);
    }
    const runnable = await resolveRunnable(spec, ctx);
    const stamps = stampTree(runnable.dir);
    if (stamps) {
      const directory = runnable.source === 'directory';
      const entry = { runnable, stamps, checkedAt: performance.now() };
      this.resolved.set(key, entry, 4096 + JSON.stringify(runnable.manifest).length * 2, {
        tags: [runnable.dir],
        ...(directory ? {} : { ttlMs: REFERENCE_TTL_MS }),
      });
      if (!this.dirs.has(runnable.dir)) {
        this.dirs.add(runnable.dir);
        this.watchedList = undefined;
      }
    }
    return runnable;
  };

  private readonly sandboxes = new Map<string, { tools: SandboxTools; until: number }>();

  /** detectSandbox, kept a few seconds per (mode, PATH); a refusal (no bwrap) is never kept. */
  private readonly sandboxTools = (mode: SandboxMode, env: Env): SandboxTools => {
    const key = `${mode}\0${env.PATH ?? ''}`;
    const now = performance.now();
    const hit = this.sandboxes.get(key);
    if (hit && hit.until > now) return hit.tools;
    const tools = detectSandbox(mode, env);
    if (this.sandboxes.size > 64) this.sandboxes.clear();
    this.sandboxes.set(key, { tools, until: now + SANDBOX_TTL_MS });
    return tools;
  };

  run(request: RunRequest, context: RunContext): Promise<RunEnvelope> {
    const env = request.environment ?? this.options.env;
    return runPackage(
      {
        package: request.package,
        input: request.input,
        ...(request.timeoutMs ? { timeoutMs: request.timeoutMs } : {}),
        ...(request.env ? { env: request.env } : {}),
        ...(request.dirs ? { dirs: request.dirs } : {}),
        ...(request.sandbox ? { sandbox: request.sandbox } : {}),
      },
      {
        cwd: request.cwd,
        env,
        paths: this.options.paths,
        hosts: this.hosts,
        resolve: this.resolve,
        sandboxTools: this.sandboxTools,
        modules: this.modules,
        ...(this.options.gpus ? { gpus: this.options.gpus } : {}),
        nodePath: this.options.nodePath,
        ...(context.signal ? { signal: context.signal } : {}),
      },
    ) as Promise<RunEnvelope>;
  }

  /** The package directories to watch: the same array until one is added or they are cleared. */
  watched(): string[] {
    return (this.watchedList ??= [...this.dirs]);
  }

  /** A file changed: drop the packages it belongs to (the run library's own caches are keyed by digest). */
  invalidate(path: string): string[] {
    if (/(^|\/)(aionctl\.lock|\.aionctl\.yaml|config\.yaml|index\.json)$/.test(path)) {
      // Installed names, the trust policy or the store changed: every resolution may differ now.
      this.dirs.clear();
      this.watchedList = undefined;
      return this.resolved.clear();
    }
    return this.resolved.dropWhere((dir) => path === dir || path.startsWith(dir + sep));
  }

  pools(): PoolStats[] {
    return this.hosts.stats();
  }

  caches(): CacheStats[] {
    return [this.resolved.stats(), this.modules.stats()];
  }

  close(): Promise<void> {
    return this.hosts.close();
  }
}

export function createLibraryRunner(options: LibraryRunnerOptions): Runner {
  return new LibraryRunner(options);
}
