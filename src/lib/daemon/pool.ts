/**
 * Pools of warm host processes, one pool per runtime and sandbox profile. A host that crashes or runs past a
 * timeout is killed and replaced; a host is recycled after `maxRuns` runs or `maxRssGrowth` bytes of RSS growth.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { PoolStats } from './types.js';

export interface HostAnswer {
  id: number;
  ready?: boolean;
  exitCode?: number;
  stdout?: string;
  truncated?: boolean;
  stderr?: string;
  needModule?: boolean;
  error?: string;
  rss: number;
}

export interface HostJob {
  digest: string;
  module?: string;
  input: string;
  outputCap: number;
}

export interface PoolOptions {
  key: string;
  runtime: string;
  /** argv of the host: `[node, ...flags, script]` or a sandbox wrapper around it. */
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  min: number;
  max: number;
  maxRuns: number;
  maxRssGrowth: number;
}

export class HostCrashed extends Error {}

let nextJobId = 1;

export class Host {
  readonly child: ChildProcessWithoutNullStreams;
  readonly digests = new Set<string>();
  private readonly pending = new Map<number, (a: HostAnswer) => void>();
  private readonly failures = new Set<(e: Error) => void>();
  runs = 0;
  baseRss = 0;
  lastRss = 0;
  dead = false;
  readonly ready: Promise<void>;

  constructor(options: PoolOptions, onExit: (host: Host) => void) {
    this.child = spawn(options.command, options.args, { stdio: ['pipe', 'pipe', 'pipe'], env: options.env ?? {} });
    this.child.stderr.resume(); // host diagnostics (never module output) are dropped, not buffered forever
    let readyResolve!: () => void;
    let readyReject!: (e: Error) => void;
    this.ready = new Promise((res, rej) => ((readyResolve = res), (readyReject = rej)));
    this.ready.catch(() => undefined);
    createInterface({ input: this.child.stdout, crlfDelay: Infinity }).on('line', (line) => {
      let answer: HostAnswer;
      try {
        answer = JSON.parse(line) as HostAnswer;
      } catch {
        return;
      }
      if (answer.ready) {
        this.baseRss = answer.rss;
        readyResolve();
        return;
      }
      this.lastRss = answer.rss;
      const resolve = this.pending.get(answer.id);
      this.pending.delete(answer.id);
      resolve?.(answer);
    });
    const fail = (err: Error) => {
      if (this.dead) return;
      this.dead = true;
      readyReject(err);
      for (const reject of this.failures) reject(err);
      this.failures.clear();
      this.pending.clear();
      onExit(this);
    };
    this.child.on('exit', (code, signal) => fail(new HostCrashed(`host exited (${signal ?? code})`)));
    this.child.on('error', (err) => fail(new HostCrashed(`host failed to start: ${err.message}`)));
    this.child.stdin.on('error', () => undefined);
  }

  send(job: HostJob): Promise<HostAnswer> {
    if (this.dead) return Promise.reject(new HostCrashed('host is gone'));
    const id = nextJobId++;
    return new Promise<HostAnswer>((resolve, reject) => {
      const done = (a: HostAnswer) => {
        this.failures.delete(reject);
        resolve(a);
      };
      this.pending.set(id, done);
      this.failures.add(reject);
      this.child.stdin.write(`${JSON.stringify({ id, ...job })}\n`);
    });
  }

  kill(): void {
    if (!this.dead) this.child.kill('SIGKILL');
  }
}

export class HostPool {
  private readonly idle: Host[] = [];
  private readonly all = new Set<Host>();
  private readonly waiters: ((h: Host) => void)[] = [];
  private started = 0;
  private replaced = 0;
  private recycled = 0;
  private closed = false;

  constructor(readonly options: PoolOptions) {
    for (let i = 0; i < options.min; i++) this.idle.push(this.spawn());
  }

  private spawn(): Host {
    this.started++;
    const host = new Host(this.options, (h) => this.onExit(h));
    this.all.add(host);
    return host;
  }

  private onExit(host: Host): void {
    this.all.delete(host);
    const i = this.idle.indexOf(host);
    if (i >= 0) this.idle.splice(i, 1);
    if (this.closed) return;
    // Keep the minimum warm, and hand a fresh host to anyone waiting for the slot the dead one held.
    if (this.waiters.length > 0) {
      this.replaced++;
      this.waiters.shift()!(this.spawn());
    } else if (this.all.size < this.options.min) {
      this.replaced++;
      this.idle.push(this.spawn());
    }
  }

  async acquire(signal?: AbortSignal): Promise<Host> {
    for (;;) {
      const host = this.idle.pop() ?? (this.all.size < this.options.max ? this.spawn() : await this.wait(signal));
      if (host.dead) continue;
      try {
        await host.ready;
        return host;
      } catch {
        continue; // died while starting: onExit already replaced it
      }
    }
  }

  private wait(signal?: AbortSignal): Promise<Host> {
    return new Promise((resolve, reject) => {
      const waiter = (h: Host) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(h);
      };
      const onAbort = () => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** Returns a host after a run: killed (timeout or crash), recycled (N runs, RSS growth) or parked idle. */
  release(host: Host, healthy: boolean): void {
    if (host.dead) return;
    host.runs++;
    const recycle =
      host.runs >= this.options.maxRuns || host.lastRss - host.baseRss > this.options.maxRssGrowth || this.closed;
    if (!healthy || recycle) {
      if (healthy) this.recycled++;
      host.kill(); // onExit replaces it
      return;
    }
    const waiter = this.waiters.shift();
    if (waiter) waiter(host);
    else this.idle.push(host);
  }

  stats(): PoolStats {
    return {
      key: this.options.key,
      runtime: this.options.runtime,
      min: this.options.min,
      max: this.options.max,
      size: this.all.size,
      busy: this.all.size - this.idle.length,
      waiting: this.waiters.length,
      started: this.started,
      replaced: this.replaced,
      recycled: this.recycled,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    const exits = [...this.all].map(
      (h) => new Promise<void>((res) => (h.dead ? res() : h.child.once('exit', () => res()))),
    );
    for (const h of this.all) {
      h.child.stdin.end();
      h.kill();
    }
    await Promise.all(exits);
  }
}
