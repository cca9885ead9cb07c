/**
 * Starting, finding, replacing and stopping the per-user, per-store daemon. Starters are serialised by a
 * proper-lockfile lock; a stale socket or pid record (process gone) is cleaned; a daemon of another version or build
 * is asked to exit and replaced; `start` returns once the new daemon answers /healthz.
 */
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import lockfile from 'proper-lockfile';
import type { Env } from '../config/index.js';
import { AionError } from '../errors/index.js';
import { DaemonClient } from './client.js';
import { DAEMON_MAIN, selfIdentity } from './identity.js';
import { checkPrivateDir, type DaemonPaths, daemonPaths } from './paths.js';
import type { DaemonStatus, Health } from './types.js';

export interface DaemonRecord {
  pid: number;
  version: string;
  buildId: string;
  socket: string;
  store: string;
  startedAt: string;
}

export interface LifecycleOptions {
  env: Env;
  cwd: string;
  /** The node binary for the daemon process. */
  nodePath: string;
  /** How long start waits for /healthz (default 15 s). */
  timeoutMs?: number;
}

export interface StartResult {
  action: 'started' | 'running' | 'replaced';
  pid: number;
  socket: string;
  version: string;
  replacedPid?: number;
}

export function readRecord(paths: DaemonPaths): DaemonRecord | undefined {
  try {
    return JSON.parse(readFileSync(paths.record, 'utf8')) as DaemonRecord;
  } catch {
    return undefined;
  }
}

export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether `pid` is alive AND runs a daemon entry (`…/daemon/main.js`): a pid record left by a crashed daemon may
 * name a pid the system has since given to an unrelated process, which must never be signalled.
 */
export function isDaemonPid(pid: number): boolean {
  if (!pidAlive(pid)) return false;
  let args: string;
  try {
    args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    try {
      args = execFileSync('ps', ['-o', 'args=', '-p', String(pid)], { encoding: 'utf8', timeout: 2000 });
    } catch {
      return false;
    }
  }
  return /daemon[/\\]main\.js(?:\s|$)/.test(args);
}

/** Checks the runtime dir (LC030 when unsafe). */
export function ensurePrivateDir(paths: DaemonPaths): void {
  const problem = checkPrivateDir(paths.dir);
  if (problem)
    throw new AionError('LC030', `refusing the daemon runtime dir ${problem.dir}: ${problem.problem}`, {
      hint: `it must be yours, not a symlink, mode 700: chmod 700 ${problem.dir} or remove it`,
    });
}

function socketRefuses(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(socket);
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED' || err.code === 'ENOENT'));
  });
}

/** Health of the daemon on this socket, or undefined when none answers. */
export async function probe(paths: DaemonPaths, timeoutMs = 2000): Promise<Health | undefined> {
  if (!existsSync(paths.socket)) return undefined;
  const client = new DaemonClient(paths.socket);
  try {
    return await client.health(AbortSignal.timeout(timeoutMs));
  } catch {
    return undefined;
  } finally {
    await client.destroy();
  }
}

/**
 * Removes a socket nobody listens on and a pid record whose process is gone (or is no daemon: a reused pid).
 * Returns what it removed.
 */
export async function cleanStale(paths: DaemonPaths): Promise<string[]> {
  const removed: string[] = [];
  const record = readRecord(paths);
  if (existsSync(paths.socket) && (await socketRefuses(paths.socket))) {
    rmSync(paths.socket, { force: true });
    removed.push(paths.socket);
  }
  if (record && !isDaemonPid(record.pid)) {
    rmSync(paths.record, { force: true });
    removed.push(paths.record);
  }
  return removed;
}

async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs: number, stepMs = 20): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** Asks the daemon to exit and waits for its process to go (SIGTERM, then SIGKILL, if it ignores the request). */
async function retire(paths: DaemonPaths, pid: number, timeoutMs: number): Promise<void> {
  const client = new DaemonClient(paths.socket);
  try {
    await client.shutdown();
  } catch {
    // already gone or wedged: signals below
  } finally {
    await client.destroy();
  }
  if (await waitFor(() => !pidAlive(pid), timeoutMs)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    // gone
  }
  if (await waitFor(() => !pidAlive(pid), 2000)) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone
  }
  if (!(await waitFor(() => !pidAlive(pid), 2000)))
    throw new AionError('LC033', `the daemon (pid ${pid}) did not exit`, { hint: `kill ${pid}` });
}

/**
 * Makes sure a daemon of this build serves this user and store: returns the running one, replaces one of another
 * version, or starts one and waits for /healthz.
 */
export async function startDaemon(options: LifecycleOptions): Promise<StartResult> {
  const paths = daemonPaths(options.env);
  const me = selfIdentity();
  ensurePrivateDir(paths);
  const timeoutMs = options.timeoutMs ?? 15_000;
  if (!existsSync(paths.lockTarget)) writeFileSync(paths.lockTarget, '', { mode: 0o600 });
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(paths.lockTarget, {
      stale: 30_000,
      retries: { retries: Math.ceil(timeoutMs / 100), minTimeout: 50, maxTimeout: 200, factor: 1.2 },
      realpath: false,
    });
  } catch (err) {
    throw new AionError('LC034', 'another daemon start holds the start lock', {
      hint: 'retry in a moment',
      cause: err,
    });
  }
  try {
    let replacedPid: number | undefined;
    const health = await probe(paths);
    if (health) {
      if (health.version === me.version && health.buildId === me.buildId)
        return { action: 'running', pid: health.pid, socket: paths.socket, version: health.version };
      await retire(paths, health.pid, timeoutMs);
      replacedPid = health.pid;
    }
    await cleanStale(paths);
    const record = readRecord(paths);
    if (record && record.pid !== replacedPid && isDaemonPid(record.pid)) {
      // A live process that does not answer: wedged. Replace it.
      await retire(paths, record.pid, 2000);
      replacedPid = record.pid;
      rmSync(paths.socket, { force: true });
      rmSync(paths.record, { force: true });
    }
    mkdirSync(paths.stateDir, { recursive: true, mode: 0o700 }); // logs: private when created here
    const errFile = `${paths.log}.stderr`;
    const fd = openSync(errFile, 'w', 0o600);
    const child = spawn(options.nodePath, ['--no-warnings', DAEMON_MAIN], {
      detached: true,
      stdio: ['ignore', fd, fd],
      cwd: '/',
      env: { ...options.env, AIONCTL_DAEMON_CWD: options.cwd },
    });
    closeSync(fd);
    let exited: number | null = null;
    child.once('exit', (code) => (exited = code ?? 1));
    child.unref();
    const up = await waitFor(async () => exited !== null || (await probe(paths, 500)) !== undefined, timeoutMs, 25);
    if (!up || exited !== null) {
      if (exited === null) child.kill('SIGKILL');
      const why = tail(errFile) || tail(paths.log);
      throw new AionError('LC031', `the daemon did not answer /healthz within ${timeoutMs} ms`, {
        hint: why ? `its output: ${why.split('\n').slice(-3).join(' | ')}` : `see ${paths.log}`,
      });
    }
    const fresh = (await probe(paths))!;
    return {
      action: replacedPid ? 'replaced' : 'started',
      pid: fresh.pid,
      socket: paths.socket,
      version: fresh.version,
      ...(replacedPid ? { replacedPid } : {}),
    };
  } finally {
    await release();
  }
}

export interface StopResult {
  stopped: boolean;
  pid?: number;
  cleaned: string[];
}

/** Stops the daemon (drains in-flight runs first); cleans a stale socket or record either way. */
export async function stopDaemon(options: { env: Env; timeoutMs?: number }): Promise<StopResult> {
  const paths = daemonPaths(options.env);
  const health = await probe(paths);
  const record = readRecord(paths);
  const pid = health?.pid ?? (record && isDaemonPid(record.pid) ? record.pid : undefined);
  if (pid !== undefined) await retire(paths, pid, options.timeoutMs ?? 30_000);
  const cleaned = await cleanStale(paths);
  return { stopped: pid !== undefined, ...(pid !== undefined ? { pid } : {}), cleaned };
}

export type StatusResult = DaemonStatus | { running: false; socket: string; store: string; stale: string[] };

export async function daemonStatus(options: { env: Env }): Promise<StatusResult> {
  const paths = daemonPaths(options.env);
  const health = await probe(paths);
  if (!health) {
    const stale = [paths.socket, paths.record].filter((f) => existsSync(f));
    return { running: false, socket: paths.socket, store: paths.store, stale };
  }
  const client = new DaemonClient(paths.socket);
  try {
    return await client.status();
  } finally {
    await client.close();
  }
}

/** The last `lines` lines of the daemon's JSON-lines log (and where it is). */
export function daemonLogs(options: { env: Env; lines?: number }): { file: string; lines: string[] } {
  const paths = daemonPaths(options.env);
  const text = tail(paths.log, options.lines ?? 50);
  return { file: paths.log, lines: text ? text.split('\n') : [] };
}
