/**
 * Where the daemon's socket, pid record and logs live. Node built-ins only: the `run` fast path in bin/run.js loads
 * this before oclif, so nothing heavy may be imported here.
 */
import { lstatSync, mkdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { type Env, resolvePaths } from '../config/paths.js';
import { sha256Hex } from './sha256.js';

/** Linux cuts `sun_path` at 108 bytes including the NUL; macOS at 104. Stay under both. */
export const MAX_SOCKET_PATH = 103;

export interface DaemonPaths {
  /** The private runtime directory holding the socket (checked 0700, owned by the user). */
  dir: string;
  /** The Unix socket. */
  socket: string;
  /** JSON record `{pid, version, buildId, socket, startedAt}` written by the daemon once it listens. */
  record: string;
  /** proper-lockfile target serialising starters. */
  lockTarget: string;
  /** State dir for logs (`daemon.log`, rotated by size). */
  stateDir: string;
  log: string;
  /** The store this daemon serves (one daemon per user and store). */
  store: string;
  /** When the natural socket path was too long: the long path it replaces. */
  longSocket?: string;
}

function shortHash(text: string, length = 12): string {
  return sha256Hex(text).slice(0, length);
}

export function currentUid(): number {
  return typeof process.getuid === 'function' ? process.getuid() : -1;
}

/**
 * Socket dir: `$AIONCTL_HOME/run`, else `$XDG_RUNTIME_DIR/aionctl`, else `${TMPDIR:-/tmp}/aionctl-<uid>`. The socket
 * is named by a hash of the store path, so two stores get two daemons. A socket path over 103 bytes falls back to
 * `/tmp/aionctl-<uid>-s/<hash of the long path>.sock` (short, still per user, still 0700).
 */
export function daemonPaths(env: Env): DaemonPaths {
  const base = resolvePaths(env);
  const id = shortHash(base.store);
  const uid = currentUid();
  let dir = base.runtime;
  let socket = join(dir, `d-${id}.sock`);
  let longSocket: string | undefined;
  if (Buffer.byteLength(socket) > MAX_SOCKET_PATH) {
    longSocket = socket;
    dir = join('/tmp', `aionctl-${uid}-s`);
    socket = join(dir, `${shortHash(longSocket, 16)}.sock`);
  }
  const stateDir = env.AIONCTL_HOME
    ? join(env.AIONCTL_HOME, 'state')
    : join(env.XDG_STATE_HOME || join(env.HOME || homedir(), '.local', 'state'), 'aionctl');
  return {
    dir,
    socket,
    record: `${socket}.json`,
    lockTarget: `${socket}.start`,
    stateDir,
    log: join(stateDir, `daemon-${id}.log`),
    store: base.store,
    ...(longSocket ? { longSocket } : {}),
  };
}

export interface DirProblem {
  dir: string;
  problem: string;
}

/**
 * Creates `dir` 0700 if missing, then checks it with lstat: a real directory (not a symlink), owned by this uid,
 * mode exactly 0700. Returns the problem instead of throwing so the fast path can fall through without the error
 * catalog; `ensurePrivateDir` in lifecycle.ts turns it into LC030.
 */
export function checkPrivateDir(dir: string, create = true): DirProblem | undefined {
  if (create) {
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch (err) {
      return { dir, problem: `cannot create it (${(err as NodeJS.ErrnoException).code ?? String(err)})` };
    }
  }
  let st;
  try {
    st = lstatSync(dir);
  } catch (err) {
    return { dir, problem: `cannot stat it (${(err as NodeJS.ErrnoException).code ?? String(err)})` };
  }
  if (st.isSymbolicLink()) return { dir, problem: 'it is a symbolic link' };
  if (!st.isDirectory()) return { dir, problem: 'it is not a directory' };
  const uid = currentUid();
  if (uid >= 0 && st.uid !== uid) return { dir, problem: `it is owned by uid ${st.uid}, not ${uid}` };
  if ((st.mode & 0o777) !== 0o700) return { dir, problem: `its mode is ${(st.mode & 0o777).toString(8)}, not 700` };
  return undefined;
}

/**
 * The build identity a daemon and a client compare: package version plus a fingerprint of the compiled daemon and
 * client files (size + mtime), so a rebuilt or upgraded install never talks to an old daemon (no silent drift).
 */
export function buildIdentity(distSrcRoot: string, version: string): string {
  const files = ['daemon/server.js', 'daemon/main.js', 'lib/daemon/paths.js', 'lib/daemon/fast-run.js'];
  const parts = [version];
  for (const f of files) {
    try {
      const st = statSync(join(distSrcRoot, f));
      parts.push(`${f}:${st.size}:${Math.floor(st.mtimeMs)}`);
    } catch {
      parts.push(`${f}:-`);
    }
  }
  return shortHash(parts.join('|'), 16);
}
