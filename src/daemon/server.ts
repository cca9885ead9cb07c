/**
 * The daemon: HTTP/1.1 over a private Unix socket (node:http). Every endpoint calls the same src/lib function the CLI
 * calls. Runs go through a bounded queue per priority (429 + Retry-After when full, 503 while draining) into the
 * runner's warm pools; results are kept a bounded time for `GET /v1/runs/:id` and `Idempotency-Key` replays.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { isAbsolute, join, resolve as resolvePath } from 'node:path';
import { type FSWatcher, watch } from 'chokidar';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { AionError, exitCodeFor, isAionError } from '../lib/errors/index.js';
import { checkPrivateDir, type DaemonPaths } from '../lib/daemon/paths.js';
import type { GpuScheduler } from '../lib/daemon/gpu.js';
import {
  type DaemonStatus,
  type Health,
  type Priority,
  PRIORITIES,
  PROTOCOL,
  type RunEnvelope,
  type Runner,
  type RunRequest,
} from '../lib/daemon/types.js';
import type { JsonLog } from './log.js';
import { RegistryCache } from './registry-cache.js';

export interface ApiHandlers {
  validate(body: { paths: string[]; cwd: string }): Promise<unknown>;
  verify(body: VerifyBody, caches: ServerCaches): Promise<unknown>;
  resolve?(body: ResolveBody, caches: ServerCaches): Promise<unknown>;
}

export interface ResolveBody {
  /** `NAME[@RANGE]` specs as `aionctl install` takes them; empty: what the project at `cwd` declares. */
  packages: string[];
  cwd: string;
  update?: boolean;
  offline?: boolean;
}

export interface VerifyBody {
  ref: string;
  /** Public keys (PEM); absent: the trust policy in effect at `cwd` decides. */
  keys?: string[] | undefined;
  cwd?: string;
  identity?: string;
  plainHttp?: boolean;
}

export interface ServerCaches {
  /** Tag lists, tag → digest (short TTLs), manifests by digest and verification results, bounded by bytes. */
  registry: RegistryCache;
  onVerifiedHit(): void;
}

export interface DaemonOptions {
  paths: DaemonPaths;
  version: string;
  buildId: string;
  runner: Runner;
  handlers: ApiHandlers;
  log: JsonLog;
  idleTimeoutMs: number;
  maxQueue: number;
  /** Runs executed at once (the queue feeds this many). */
  concurrency: number;
  cacheBytes: number;
  maxBodyBytes?: number;
  idempotencyMs?: number;
  /** Extra files to watch (config, lockfile, trust policy, store index). */
  watch?: string[];
  gpu?: GpuScheduler;
  /** Called once the daemon has stopped (exit the process here). */
  onStopped?: (reason: string) => void;
}

interface RunRecord {
  id: string;
  state: 'queued' | 'running' | 'finished';
  correlationId: string;
  priority: Priority;
  createdAt: number;
  envelope?: RunEnvelope;
  /** A refusal before the run started (the CLI prints it as an error, not an envelope). */
  error?: AionError;
  done: Promise<void>;
}

interface QueueItem {
  record: RunRecord;
  request: RunRequest;
  resolve: () => void;
}

const MAX_RECORDS = 10_000;
const RUN_FIELDS = ['package', 'input', 'timeoutMs', 'cwd', 'priority', 'env', 'dirs', 'sandbox', 'environment'];
const RUN_ID = /^\/v1\/runs\/([A-Za-z0-9-]{1,64})$/;

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

function badRequest(message: string): HttpError {
  return new HttpError(400, 'EX043', message);
}

function checkRunBody(body: unknown): RunRequest {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('the body must be a JSON object');
  const b = body as Record<string, unknown>;
  for (const key of Object.keys(b)) if (!RUN_FIELDS.includes(key)) throw badRequest(`unknown field ${key}`);
  if (typeof b.package !== 'string' || b.package.length === 0 || b.package.length > 4096)
    throw badRequest('package must be a non-empty string');
  if (!('input' in b)) throw badRequest('input is required (any JSON value)');
  if (typeof b.cwd !== 'string' || !isAbsolute(b.cwd)) throw badRequest('cwd must be an absolute path');
  if (b.timeoutMs !== undefined && (!Number.isInteger(b.timeoutMs) || (b.timeoutMs as number) <= 0))
    throw badRequest('timeoutMs must be a positive integer');
  if (b.priority !== undefined && !PRIORITIES.includes(b.priority as Priority))
    throw badRequest('priority must be high, normal or low');
  for (const key of ['env', 'dirs'] as const)
    if (b[key] !== undefined && (!Array.isArray(b[key]) || (b[key] as unknown[]).some((v) => typeof v !== 'string')))
      throw badRequest(`${key} must be a list of strings`);
  if (b.sandbox !== undefined && !['auto', 'bwrap', 'none'].includes(b.sandbox as string))
    throw badRequest('sandbox must be auto, bwrap or none');
  if (
    b.environment !== undefined &&
    (!b.environment ||
      typeof b.environment !== 'object' ||
      Object.values(b.environment as object).some((v) => typeof v !== 'string'))
  )
    throw badRequest('environment must map names to strings');
  return b as unknown as RunRequest;
}

function checkResolveBody(body: unknown): ResolveBody {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('the body must be a JSON object');
  const b = body as Record<string, unknown>;
  for (const key of Object.keys(b))
    if (!['packages', 'cwd', 'update', 'offline'].includes(key)) throw badRequest(`unknown field ${key}`);
  if (typeof b.cwd !== 'string' || !isAbsolute(b.cwd)) throw badRequest('cwd must be an absolute path');
  const packages = b.packages === undefined ? [] : b.packages;
  if (!Array.isArray(packages) || packages.some((p) => typeof p !== 'string' || p.length === 0 || p.length > 1024))
    throw badRequest('packages must be a list of NAME[@RANGE] strings');
  for (const key of ['update', 'offline'] as const)
    if (b[key] !== undefined && typeof b[key] !== 'boolean') throw badRequest(`${key} must be true or false`);
  return {
    packages: packages as string[],
    cwd: b.cwd,
    ...(b.update === true ? { update: true } : {}),
    ...(b.offline === true ? { offline: true } : {}),
  };
}

function checkStrings(value: unknown, what: string): string[] {
  if (!Array.isArray(value) || value.length === 0 || value.some((v) => typeof v !== 'string'))
    throw badRequest(`${what} must be a non-empty list of strings`);
  return value as string[];
}

export class DaemonServer {
  readonly server: Server;
  private readonly queues: Record<Priority, QueueItem[]> = { high: [], normal: [], low: [] };
  private readonly records = new Map<string, RunRecord>();
  private readonly idempotency = new Map<string, { id: string; expires: number }>();
  private readonly sse = new Set<ServerResponse>();
  private readonly caches: ServerCaches;
  private readonly metrics = new Registry();
  private readonly runsCounter: Counter<'outcome'>;
  private readonly duration: Histogram<'outcome'>;
  private readonly verifiedHits: Counter;
  private watcher: FSWatcher | undefined;
  private readonly watchedSet = new Set<string>();
  private lastWatched: string[] | undefined;
  private running = 0;
  private total = { total: 0, ok: 0, failed: 0 };
  private draining = false;
  private lastActivity = Date.now();
  private idleTimer: NodeJS.Timeout | undefined;
  private eventId = 0;
  private readonly startedAt = Date.now();
  private readonly maxBody: number;

  constructor(private readonly options: DaemonOptions) {
    this.maxBody = options.maxBodyBytes ?? 1024 * 1024;
    this.caches = {
      registry: new RegistryCache({ bytes: Math.floor(options.cacheBytes / 4) }),
      onVerifiedHit: () => this.verifiedHits.inc(),
    };
    this.runsCounter = new Counter({
      name: 'aionctl_daemon_runs_total',
      help: 'Runs answered, by outcome (ok or the error code).',
      labelNames: ['outcome'],
      registers: [this.metrics],
    });
    this.duration = new Histogram({
      name: 'aionctl_daemon_run_duration_seconds',
      help: 'Run duration from dequeue to answer.',
      labelNames: ['outcome'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [this.metrics],
    });
    this.verifiedHits = new Counter({
      name: 'aionctl_daemon_verification_cache_hits_total',
      help: 'Signature verifications answered from the verification cache.',
      registers: [this.metrics],
    });
    const queues = this.queues;
    const runner = options.runner;
    const cacheStats = () => this.cacheStats();
    new Gauge({
      name: 'aionctl_daemon_queue_depth',
      help: 'Runs waiting, by priority.',
      labelNames: ['priority'],
      registers: [this.metrics],
      collect() {
        for (const p of PRIORITIES) this.set({ priority: p }, queues[p].length);
      },
    });
    new Gauge({
      name: 'aionctl_daemon_pool_size',
      help: 'Warm host processes per pool, by state.',
      labelNames: ['pool', 'state'],
      registers: [this.metrics],
      collect() {
        for (const p of runner.pools()) {
          this.set({ pool: p.key, state: 'busy' }, p.busy);
          this.set({ pool: p.key, state: 'idle' }, p.size - p.busy);
        }
      },
    });
    for (const kind of ['hits', 'misses'] as const) {
      new Gauge({
        name: `aionctl_daemon_cache_${kind}`,
        help: `Cache ${kind} since start, by cache.`,
        labelNames: ['cache'],
        registers: [this.metrics],
        collect() {
          for (const c of cacheStats()) this.set({ cache: c.name }, c[kind]);
        },
      });
    }
    const gpu = options.gpu;
    if (gpu) {
      new Gauge({
        name: 'aionctl_daemon_gpu_slots',
        help: 'GPU slots (one per discovered device), by state.',
        labelNames: ['state'],
        registers: [this.metrics],
        collect() {
          const devices = gpu.devices();
          this.set({ state: 'busy' }, devices.filter((d) => d.busy).length);
          this.set({ state: 'free' }, devices.filter((d) => !d.busy).length);
        },
      });
      new Gauge({
        name: 'aionctl_daemon_gpu_waiting',
        help: 'Runs waiting for a GPU slot.',
        registers: [this.metrics],
        collect() {
          this.set(gpu.waiting);
        },
      });
    }
    this.server = createServer({ keepAlive: true }, (req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 30_000;
  }

  private readonly byOutcome = new Map<string, { count: Counter.Internal; duration: Histogram.Internal<'outcome'> }>();

  /** The labelled metric children of an outcome, made once (no label hashing per run). */
  private outcomeMetrics(outcome: string): {
    count: Counter.Internal;
    duration: Histogram.Internal<'outcome'>;
  } {
    let m = this.byOutcome.get(outcome);
    if (!m) {
      m = { count: this.runsCounter.labels({ outcome }), duration: this.duration.labels({ outcome }) };
      this.byOutcome.set(outcome, m);
    }
    return m;
  }

  private cacheStats() {
    return [...this.options.runner.caches(), ...this.caches.registry.stats()];
  }

  // ---- lifecycle -------------------------------------------------------------------------------------------

  /** Checks the socket dir, clears a stale socket, listens 0600, writes the pid record, starts watching. */
  async listen(): Promise<void> {
    const { paths } = this.options;
    const problem = checkPrivateDir(paths.dir);
    if (problem)
      throw new AionError('LC030', `refusing the daemon runtime dir ${problem.dir}: ${problem.problem}`, {
        hint: `remove it or fix it: chmod 700 ${problem.dir} (it must be yours and not a symlink)`,
      });
    if (existsSync(paths.socket)) {
      if (await socketAnswers(paths.socket))
        throw new AionError('LC033', `another daemon already listens on ${paths.socket}`, {
          hint: 'aionctl daemon stop',
        });
      rmSync(paths.socket, { force: true });
    }
    const umask = process.umask(0o177); // the socket is created 0600, never briefly wider
    try {
      await new Promise<void>((res, rej) => {
        this.server.once('error', rej);
        this.server.listen(paths.socket, () => {
          this.server.off('error', rej);
          res();
        });
      });
    } finally {
      process.umask(umask);
    }
    const record = {
      pid: process.pid,
      version: this.options.version,
      buildId: this.options.buildId,
      socket: paths.socket,
      store: paths.store,
      startedAt: new Date(this.startedAt).toISOString(),
    };
    const tmp = `${paths.record}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(record), { mode: 0o600 });
    renameSync(tmp, paths.record);
    this.startWatching();
    const tick = Math.max(50, Math.min(60_000, Math.floor(this.options.idleTimeoutMs / 4)));
    this.idleTimer = setInterval(() => this.checkIdle(), tick);
    this.idleTimer.unref();
    this.options.log.write('info', 'daemon listening', { ...record, pid: process.pid });
  }

  private checkIdle(): void {
    const busy = this.running > 0 || PRIORITIES.some((p) => this.queues[p].length > 0);
    if (busy) this.lastActivity = Date.now();
    else if (Date.now() - this.lastActivity >= this.options.idleTimeoutMs) void this.stop('idle');
  }

  /** Stops taking work (503), lets queued and in-flight runs finish, then closes everything. Idempotent. */
  async stop(reason: string): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    this.options.log.write('info', 'daemon draining', { reason, inFlight: this.running });
    this.emit('draining', { reason });
    while (this.running > 0 || PRIORITIES.some((p) => this.queues[p].length > 0))
      await new Promise((r) => setTimeout(r, 10));
    clearInterval(this.idleTimer);
    for (const res of this.sse) res.end();
    this.sse.clear();
    await this.watcher?.close();
    await new Promise<void>((res) => {
      this.server.close(() => res());
      this.server.closeIdleConnections();
    });
    await this.options.runner.close();
    this.cleanupFiles();

    this.options.log.write('info', 'daemon stopped', { reason, runs: this.total });
    await this.options.log.close();
    this.options.onStopped?.(reason);
  }

  /** Removes the socket and the pid record, only if they are still ours. */
  cleanupFiles(): void {
    rmSync(this.options.paths.socket, { force: true });
    rmSync(this.options.paths.record, { force: true });
  }

  // ---- watching --------------------------------------------------------------------------------------------

  private startWatching(): void {
    this.watcher = watch([], { ignoreInitial: true, persistent: false, atomic: false });
    this.watcher.on('all', (event, path) => this.invalidate(resolvePath(path), event));
    this.watcher.on('error', (err) => this.options.log.write('warn', 'watch error', { error: String(err) }));
    this.watchMore(this.options.watch ?? []);
  }

  private watchMore(files: string[]): void {
    const fresh = files.filter((f) => !this.watchedSet.has(f));
    if (fresh.length === 0 || !this.watcher) return;
    for (const f of fresh) this.watchedSet.add(f);
    this.watcher.add(fresh);
  }

  /** A watched file changed: drop exactly the entries derived from it and tell subscribers. */
  invalidate(path: string, event = 'change'): string[] {
    const dropped = [...this.options.runner.invalidate(path)];
    // The trust policy and configuration decide what verifies and where packages come from: a change there drops
    // every verification result and every tag answer (manifests by digest stay valid).
    if (/(\.aionctl\.yaml|config\.yaml)$/.test(path))
      dropped.push(...this.caches.registry.verified.clear(), ...this.caches.registry.dropMutable());
    this.options.log.write('info', 'cache invalidated', { path, event, dropped: dropped.length });
    this.emit('invalidated', { path, event, dropped });
    return dropped;
  }

  // ---- events ----------------------------------------------------------------------------------------------

  private emit(type: string, data: Record<string, unknown>): void {
    if (this.sse.size === 0) return;
    const frame = `id: ${++this.eventId}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const res of this.sse) res.write(frame);
  }

  // ---- queue -----------------------------------------------------------------------------------------------

  private queueDepth(): number {
    return PRIORITIES.reduce((n, p) => n + this.queues[p].length, 0);
  }

  private enqueue(request: RunRequest, correlationId: string): RunRecord {
    const priority = request.priority ?? 'normal';
    if (this.queues[priority].length >= this.options.maxQueue)
      throw new HttpError(429, 'EX040', `the ${priority} queue is full (${this.options.maxQueue} runs waiting)`, {
        'retry-after': '1',
      });
    let resolve!: () => void;
    const done = new Promise<void>((r) => (resolve = r));
    const record: RunRecord = {
      id: randomUUID(),
      state: 'queued',
      correlationId,
      priority,
      createdAt: Date.now(),
      done,
    };
    this.remember(record);
    this.queues[priority].push({ record, request, resolve });
    if (this.sse.size > 0) this.emit('queued', { id: record.id, cid: correlationId, priority });
    this.pump();
    return record;
  }

  private remember(record: RunRecord): void {
    this.records.set(record.id, record);
    if (this.records.size > MAX_RECORDS) {
      for (const [id, r] of this.records) {
        if (this.records.size <= MAX_RECORDS) break;
        if (r.state === 'finished') this.records.delete(id);
      }
    }
  }

  private pump(): void {
    while (this.running < this.options.concurrency) {
      const item = this.queues.high.shift() ?? this.queues.normal.shift() ?? this.queues.low.shift();
      if (!item) return;
      this.running++;
      void this.execute(item);
    }
  }

  private async execute({ record, request, resolve }: QueueItem): Promise<void> {
    record.state = 'running';
    if (this.sse.size > 0) this.emit('started', { id: record.id, cid: record.correlationId });
    const start = performance.now();
    let ok = false;
    try {
      record.envelope = await this.options.runner.run(request, { correlationId: record.correlationId });
      ok = record.envelope.ok;
    } catch (err) {
      record.error = isAionError(err) ? err : new AionError('EX001', (err as Error).message, { cause: err });
      if (!isAionError(err))
        this.options.log.write('error', 'run crashed', { cid: record.correlationId, error: (err as Error).stack });
    }
    const outcome = ok ? 'ok' : (record.envelope?.error?.code ?? record.error?.code ?? 'EX001');
    this.outcomeMetrics(outcome).count.inc();
    this.outcomeMetrics(outcome).duration.observe((performance.now() - start) / 1000);
    this.total.total++;
    if (ok) this.total.ok++;
    else this.total.failed++;
    record.state = 'finished';
    this.running--;
    this.lastActivity = Date.now();
    if (this.sse.size > 0) this.emit('finished', { id: record.id, cid: record.correlationId, ok, outcome });
    if (!ok) this.options.log.write('info', 'run failed', { cid: record.correlationId, id: record.id, outcome });
    // The library runner hands back the same list until a cache miss adds a directory: only a new list is looked at.
    const watched = this.options.runner.watched();
    if (watched !== this.lastWatched) {
      this.lastWatched = watched;
      this.watchMore(watched);
    }
    resolve();
    this.pump();
  }

  // ---- HTTP ------------------------------------------------------------------------------------------------

  private readBody(req: IncomingMessage): Promise<unknown> {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > this.maxBody)
      return Promise.reject(new HttpError(413, 'EX042', `the body is ${declared} bytes; the cap is ${this.maxBody}`));
    // Plain events, not an async iterator: a run's body is one chunk, and the iterator cost more than the parse.
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const onData = (chunk: Buffer) => {
        size += chunk.length;
        if (size > this.maxBody) {
          cleanup();
          reject(new HttpError(413, 'EX042', `the body is over the ${this.maxBody}-byte cap`));
          return;
        }
        chunks.push(chunk);
      };
      const onEnd = () => {
        cleanup();
        try {
          const text = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8');
          resolve(JSON.parse(text));
        } catch {
          reject(badRequest('the body is not JSON'));
        }
      };
      const onError = (err: Error) => {
        cleanup();
        reject(err);
      };
      const cleanup = () => {
        req.off('data', onData);
        req.off('end', onEnd);
        req.off('error', onError);
      };
      req.on('data', onData);
      req.on('end', onEnd);
      req.on('error', onError);
    });
  }

  private send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      ...headers,
    });
    res.end(text);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const cid =
      (typeof req.headers['x-request-id'] === 'string' && req.headers['x-request-id'].slice(0, 128)) || randomUUID();
    res.setHeader('x-request-id', cid);
    this.lastActivity = Date.now();
    const url = (req.url ?? '/').split('?')[0]!;
    try {
      await this.route(req, res, url, cid);
    } catch (err) {
      const e =
        err instanceof HttpError
          ? err
          : isAionError(err)
            ? new HttpError(statusFor(err.code), err.code, err.message)
            : new HttpError(500, 'EX001', (err as Error).message);
      if (e.status >= 500 && !(err instanceof HttpError) && !isAionError(err))
        this.options.log.write('error', 'handler failed', { cid, url, error: (err as Error).stack });
      const hint = isAionError(err) ? err.hint : undefined;
      if (!res.headersSent)
        this.send(
          res,
          e.status,
          { error: { code: e.code, message: e.message, ...(hint ? { hint } : {}) } },
          {
            ...e.headers,
            'x-aionctl-exit': String(exitCodeFor(e.code)),
            // An over-cap body is not read to the end: close instead of keeping a half-read connection.
            ...(e.status === 413 ? { connection: 'close' } : {}),
          },
        );
      if (e.status === 413) req.destroy();
    }
  }

  private async route(req: IncomingMessage, res: ServerResponse, url: string, cid: string): Promise<void> {
    const method = req.method ?? 'GET';
    if (method === 'GET' && url === '/healthz') {
      const health: Health = {
        ok: true,
        pid: process.pid,
        version: this.options.version,
        buildId: this.options.buildId,
        protocol: PROTOCOL,
      };
      return this.send(res, this.draining ? 503 : 200, health);
    }
    if (method === 'GET' && url === '/v1/status') return this.send(res, 200, this.status());
    if (method === 'GET' && url === '/metrics') {
      const text = await this.metrics.metrics();
      res.writeHead(200, { 'content-type': this.metrics.contentType });
      res.end(text);
      return;
    }
    if (method === 'GET' && url === '/v1/events') {
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-store',
        connection: 'keep-alive',
      });
      res.write(`: aionctl daemon ${process.pid}\n\n`);
      this.sse.add(res);
      req.on('close', () => this.sse.delete(res));
      return;
    }
    const runMatch = method === 'GET' ? RUN_ID.exec(url) : null;
    if (runMatch) {
      const record = this.records.get(runMatch[1]!);
      if (!record) throw new HttpError(404, 'EX045', `no run ${runMatch[1]} (finished runs are kept for a while)`);
      return this.send(res, 200, {
        id: record.id,
        state: record.state,
        envelope: record.envelope ?? null,
        error: record.error ? { code: record.error.code, message: record.error.message } : null,
      });
    }
    if (method === 'POST' && url === '/v1/shutdown') {
      this.send(res, 202, { ok: true, pid: process.pid, draining: true });
      setImmediate(() => void this.stop('requested'));
      return;
    }
    if (method !== 'POST' || !['/v1/runs', '/v1/validate', '/v1/verify', '/v1/resolve'].includes(url))
      throw new HttpError(404, 'EX045', `no route ${method} ${url}`);
    if (this.draining) throw new HttpError(503, 'EX041', 'the daemon is draining', { 'retry-after': '1' });
    const body = await this.readBody(req);
    if (url === '/v1/runs') return this.postRun(req, res, body, cid);
    if (url === '/v1/validate') {
      const b = (body ?? {}) as Record<string, unknown>;
      const paths = checkStrings(b.paths, 'paths');
      if (typeof b.cwd !== 'string' || !isAbsolute(b.cwd)) throw badRequest('cwd must be an absolute path');
      return this.send(res, 200, await this.options.handlers.validate({ paths, cwd: b.cwd }));
    }
    if (url === '/v1/verify') {
      const b = (body ?? {}) as Record<string, unknown>;
      if (typeof b.ref !== 'string' || !b.ref) throw badRequest('ref must be a reference string');
      // With keys: verify against them (as `aionctl verify --key`); without: against the trust policy in effect at
      // cwd (as `aionctl verify REF`).
      const keys = b.keys === undefined ? undefined : checkStrings(b.keys, 'keys');
      if (b.identity !== undefined && typeof b.identity !== 'string') throw badRequest('identity must be a string');
      if (b.cwd !== undefined && (typeof b.cwd !== 'string' || !isAbsolute(b.cwd)))
        throw badRequest('cwd must be an absolute path');
      if (!keys && b.cwd === undefined) throw badRequest('give keys, or cwd to verify against the trust policy');
      const verifyBody: VerifyBody = { ref: b.ref, keys, identity: b.identity as string | undefined };
      if (typeof b.cwd === 'string') verifyBody.cwd = b.cwd;
      if (b.plainHttp === true) verifyBody.plainHttp = true;
      return this.send(res, 200, await this.options.handlers.verify(verifyBody, this.caches));
    }
    // /v1/resolve
    if (!this.options.handlers.resolve)
      throw new HttpError(501, 'LC035', 'this build has no package resolver (install); resolve is not available');
    const resolved = await this.options.handlers.resolve(checkResolveBody(body), this.caches);
    // The project's file and lockfile decide what resolves: watch them (a change drops tag answers).
    const root = (resolved as { projectRoot?: unknown }).projectRoot;
    if (typeof root === 'string') this.watchMore([join(root, '.aionctl.yaml'), join(root, 'aionctl.lock')]);
    return this.send(res, 200, resolved);
  }

  private async postRun(req: IncomingMessage, res: ServerResponse, body: unknown, cid: string): Promise<void> {
    const request = checkRunBody(body);
    const key = req.headers['idempotency-key'];
    const now = Date.now();
    let record: RunRecord | undefined;
    if (typeof key === 'string' && key) {
      const seen = this.idempotency.get(key);
      if (seen && seen.expires > now) record = this.records.get(seen.id);
    }
    let replay = true;
    if (!record) {
      replay = false;
      record = this.enqueue(request, cid);
      if (typeof key === 'string' && key) {
        this.idempotency.set(key, { id: record.id, expires: now + (this.options.idempotencyMs ?? 10 * 60_000) });
        if (this.idempotency.size > MAX_RECORDS)
          for (const [k, v] of this.idempotency)
            if (v.expires <= now || this.idempotency.size > MAX_RECORDS) this.idempotency.delete(k);
      }
    }
    await record.done;
    const headers = { 'x-run-id': record.id, ...(replay ? { 'idempotent-replay': 'true' } : {}) };
    if (record.error) {
      const e = record.error;
      return this.send(
        res,
        statusFor(e.code),
        { error: { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) } },
        { ...headers, 'x-aionctl-exit': String(e.exitCode) },
      );
    }
    const envelope = record.envelope!;
    const exit = envelope.ok ? 0 : exitCodeFor(envelope.error?.code ?? 'EX001');
    this.send(res, 200, envelope, {
      'x-run-id': record.id,
      'x-aionctl-exit': String(exit),
      ...(replay ? { 'idempotent-replay': 'true' } : {}),
    });
  }

  status(): DaemonStatus {
    const mem = process.memoryUsage();
    return {
      running: true,
      pid: process.pid,
      socket: this.options.paths.socket,
      version: this.options.version,
      buildId: this.options.buildId,
      store: this.options.paths.store,
      startedAt: new Date(this.startedAt).toISOString(),
      uptimeMs: Date.now() - this.startedAt,
      runs: { ...this.total, inFlight: this.running },
      queue: {
        high: this.queues.high.length,
        normal: this.queues.normal.length,
        low: this.queues.low.length,
        max: this.options.maxQueue,
      },
      draining: this.draining,
      idleTimeoutMs: this.options.idleTimeoutMs,
      rss: mem.rss,
      heapUsed: mem.heapUsed,
      caches: this.cacheStats(),
      pools: this.options.runner.pools(),
      gpus: this.options.gpu?.devices() ?? [],
    };
  }

  get depth(): number {
    return this.queueDepth();
  }
}

function statusFor(code: string): number {
  if (code === 'EX042') return 413;
  if (code === 'EX043') return 400;
  if (code.startsWith('CI') || code.startsWith('SC') || code.startsWith('MD')) return 400;
  if (code.startsWith('FS')) return 422;
  if (code.startsWith('ST')) return 403;
  if (code.startsWith('RG') || code.startsWith('NE')) return 502;
  if (code === 'EX001') return 500;
  return 422; // the request was understood and refused (run preconditions, lifecycle)
}

/** True when something accepts connections on the socket (a live daemon), false for a stale file. */
export function socketAnswers(socket: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(socket);
    const timer = setTimeout(() => {
      s.destroy();
      resolve(true); // something holds it but does not answer: treat as alive, never unlink a live socket
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      s.destroy();
      resolve(true);
    });
    s.once('error', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}
