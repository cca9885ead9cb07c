/**
 * The OS sandbox both runtimes run in: bubblewrap with new user/pid/ipc/uts/cgroup (and, unless granted, network)
 * namespaces, only the needed host paths bound read-only, a private /tmp, uid/gid 65534, no capabilities, a new
 * session, death with the parent, and rlimits set by `prlimit` inside. When aionctl runs as root, the sandbox is
 * entered as the unprivileged `nobody` (setpriv) so the process limit counts only the sandbox's processes.
 */
import { accessSync, constants, existsSync, lstatSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import type { Env } from '../config/index.js';
import { AionError } from '../errors/index.js';
import type { SandboxKind, SandboxMode } from './types.js';

export const SANDBOX_UID = 65534;

export interface SandboxTools {
  kind: SandboxKind;
  bwrap?: string;
  prlimit?: string;
  setpriv?: string;
  /** Drop to nobody before entering (aionctl runs as root). */
  dropRoot: boolean;
}

/** The first executable `name` on PATH, or undefined. */
export function which(name: string, env: Env): string | undefined {
  if (name.includes('/')) return existsSync(name) ? name : undefined;
  for (const dir of (env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export const INSTALL_HINT =
  'install bubblewrap (Debian/Ubuntu: sudo apt-get install bubblewrap; Fedora: sudo dnf install bubblewrap) and make sure unprivileged user namespaces are enabled, or pass --sandbox none to run unconfined (unsafe)';

/**
 * Which sandbox a run gets. `auto` and `bwrap` need bubblewrap on Linux (EX012 otherwise, nothing runs); `none`
 * runs unconfined and the caller warns.
 */
export function detectSandbox(mode: SandboxMode, env: Env, platform: NodeJS.Platform = process.platform): SandboxTools {
  const prlimit = which('prlimit', env);
  if (mode === 'none') return { kind: 'none', prlimit, dropRoot: false };
  if (platform !== 'linux')
    throw new AionError('EX012', `no sandbox on ${platform}: aionctl sandboxes runs with bubblewrap on Linux`, {
      hint: 'run on Linux, or pass --sandbox none to run unconfined (unsafe)',
    });
  const bwrap = which('bwrap', env);
  if (!bwrap) throw new AionError('EX012', 'no sandbox: bubblewrap (bwrap) is not on PATH', { hint: INSTALL_HINT });
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  const setpriv = root ? which('setpriv', env) : undefined;
  return { kind: 'bwrap', bwrap, prlimit, setpriv, dropRoot: root && setpriv !== undefined };
}

/** True when stderr from a failed start is bubblewrap's own setup error (the sandbox could not be created). */
export function isSandboxSetupFailure(stderr: string): boolean {
  return /^bwrap: /m.test(stderr) && !/^bwrap: Can't find source path/m.test(stderr);
}

export interface Bind {
  host: string;
  guest: string;
  mode: 'ro' | 'rw' | 'dev';
}

export interface SandboxSpec {
  network: 'deny' | 'allow';
  binds: Bind[];
  env: Record<string, string>;
  cwd: string;
  /** rlimits applied inside via prlimit. */
  limits: {
    dataBytes?: number;
    addressSpaceBytes?: number;
    cpuSeconds?: number;
    openFiles?: number;
    processes?: number;
  };
}

/** Top-level system paths a dynamically linked runtime needs: bound read-only, symlinks kept as symlinks. */
const SYSTEM_PATHS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];
/** Files under /etc a process needs for names and TLS when the network is granted. */
const NETWORK_ETC = ['/etc/resolv.conf', '/etc/hosts', '/etc/nsswitch.conf', '/etc/ssl', '/etc/ca-certificates'];

function systemBinds(): string[] {
  const args: string[] = [];
  for (const path of SYSTEM_PATHS) {
    let st;
    try {
      st = lstatSync(path);
    } catch {
      continue;
    }
    if (st.isSymbolicLink()) args.push('--symlink', readlinkSync(path), path);
    else if (st.isDirectory()) args.push('--ro-bind', path, path);
  }
  return args;
}

/** Process count of a uid (for a process limit relative to what the user already runs). */
function processesOf(uid: number): number {
  let n = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (statSync(`/proc/${entry}`).uid === uid) n++;
    } catch {
      // gone
    }
  }
  return n;
}

/** prlimit arguments for the limits (empty when prlimit is absent). */
function prlimitArgs(tools: SandboxTools, limits: SandboxSpec['limits']): string[] {
  if (!tools.prlimit) return [];
  const args = [tools.kind === 'bwrap' ? tools.prlimit : tools.prlimit];
  if (limits.dataBytes) args.push(`--data=${Math.floor(limits.dataBytes)}`);
  if (limits.addressSpaceBytes) args.push(`--as=${Math.floor(limits.addressSpaceBytes)}`);
  if (limits.cpuSeconds) args.push(`--cpu=${Math.ceil(limits.cpuSeconds)}`);
  if (limits.openFiles) args.push(`--nofile=${limits.openFiles}`);
  if (limits.processes) {
    // Without the drop to nobody the limit counts every process of the user, so it is relative to those.
    const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
    const base = tools.kind === 'bwrap' && tools.dropRoot ? 0 : uid === 0 ? 0 : processesOf(uid);
    args.push(`--nproc=${base + limits.processes}`);
  }
  args.push('--');
  return args;
}

/**
 * The argv prefix that runs `command` inside the sandbox (or just under prlimit for `none`). Binds: system paths
 * read-only, each `binds` entry (`dev` = a device node), /proc, a minimal /dev, a private /tmp.
 */
export function sandboxArgv(tools: SandboxTools, spec: SandboxSpec, command: string[]): string[] {
  const limits = prlimitArgs(tools, spec.limits);
  if (tools.kind === 'none') return [...limits, ...command];
  const args: string[] = [];
  if (tools.dropRoot && tools.setpriv)
    args.push(tools.setpriv, `--reuid=${SANDBOX_UID}`, `--regid=${SANDBOX_UID}`, '--clear-groups', '--');
  args.push(tools.bwrap!);
  args.push('--unshare-user', '--unshare-ipc', '--unshare-pid', '--unshare-uts', '--unshare-cgroup-try');
  if (spec.network === 'deny') args.push('--unshare-net');
  else args.push('--share-net');
  args.push('--uid', String(SANDBOX_UID), '--gid', String(SANDBOX_UID), '--hostname', 'aionctl-sandbox');
  args.push('--cap-drop', 'ALL', '--new-session', '--die-with-parent', '--clearenv');
  args.push(...systemBinds());
  args.push('--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp');
  if (spec.network === 'allow') for (const p of NETWORK_ETC) if (existsSync(p)) args.push('--ro-bind', p, p);
  const parents = new Set<string>();
  for (const b of spec.binds) {
    const parent = dirname(b.guest);
    if (parent !== '/' && !parents.has(parent) && !b.guest.startsWith('/tmp/') && !b.guest.startsWith('/dev/')) {
      parents.add(parent);
      args.push('--dir', parent);
    }
    args.push(b.mode === 'rw' ? '--bind' : b.mode === 'dev' ? '--dev-bind' : '--ro-bind', b.host, b.guest);
  }
  for (const [k, v] of Object.entries(spec.env)) args.push('--setenv', k, v);
  args.push('--chdir', spec.cwd, '--');
  return [...args, ...limits, ...command];
}
