/** Limits, secrets and directory grants of one run, from the manifest and the request. Pure. */
import { isAbsolute, normalize, relative, resolve, sep } from 'node:path';
import type { Env } from '../config/index.js';
import { AionError } from '../errors/index.js';
import type { AgentPackage } from '../manifest/index.js';
import type { DirGrant, RunLimits, RunRequest } from './types.js';

export const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MEMORY = '256Mi';
export const DEFAULT_OUTPUT_BYTES = 16 * 1024 * 1024;
const DEFAULT_STDERR_BYTES = 1024 * 1024;
const DEFAULT_PROCESSES = 64;
const DEFAULT_OPEN_FILES = 256;

const SUFFIX: Record<string, number> = {
  '': 1,
  m: 0.001,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** A Kubernetes quantity (0.5, 500m, 256Mi, 2G) as a number. */
export function parseQuantity(text: string): number {
  const m = /^((?:\d+(?:\.\d+)?|\.\d+))(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/.exec(text.trim());
  if (!m) throw new AionError('SC001', `invalid quantity "${text}"`, { hint: 'use e.g. 0.5, 500m, 256Mi, 1Gi' });
  return Number(m[1]) * SUFFIX[m[2] ?? '']!;
}

/** The run's limits: `--timeout` only lowers `policies.timeout_ms`. */
export function computeLimits(manifest: AgentPackage, request: RunRequest, gpus: string[] = []): RunLimits {
  const declared = manifest.policies?.timeout_ms ?? DEFAULT_TIMEOUT_MS;
  const timeoutMs = request.timeoutMs !== undefined ? Math.min(declared, Math.max(1, request.timeoutMs)) : declared;
  const memoryBytes = Math.floor(parseQuantity(manifest.runtime.resources?.memory ?? DEFAULT_MEMORY));
  const cpu = manifest.runtime.resources?.cpu ? parseQuantity(manifest.runtime.resources.cpu) : 1;
  return {
    timeoutMs,
    memoryBytes,
    // CPU seconds: the wall-clock budget at the declared cores (at least one), rounded up, plus one.
    cpuSeconds: Math.ceil((timeoutMs / 1000) * Math.max(1, cpu)) + 1,
    maxOutputBytes: request.maxOutputBytes ?? DEFAULT_OUTPUT_BYTES,
    maxStderrBytes: DEFAULT_STDERR_BYTES,
    maxProcesses: DEFAULT_PROCESSES,
    maxOpenFiles: DEFAULT_OPEN_FILES,
    network: manifest.permissions?.network ?? 'deny',
    filesystem: manifest.permissions?.filesystem ?? 'deny',
    gpus,
  };
}

export interface SecretGrant {
  env: Record<string, string>;
  /** Values to redact from everything the run reports. */
  values: string[];
}

/**
 * The environment a module gets: only the secrets `permissions.secrets` lists (`NAME?` optional), restricted to
 * `requested` when given. EX029 for a requested name the manifest does not list; EX019 for a missing required one.
 */
export function grantSecrets(manifest: AgentPackage, callerEnv: Env, requested?: string[]): SecretGrant {
  const listed = new Map<string, boolean>();
  for (const entry of manifest.permissions?.secrets ?? []) {
    const optional = entry.endsWith('?');
    listed.set(optional ? entry.slice(0, -1) : entry, optional);
  }
  const names = requested ?? [...listed.keys()];
  for (const name of names) {
    if (!listed.has(name))
      throw new AionError('EX029', `--env ${name}: the package does not list ${name} in permissions.secrets`, {
        hint: `only these may be passed: ${[...listed.keys()].join(', ') || '(none)'}`,
      });
  }
  const env: Record<string, string> = {};
  const missing: string[] = [];
  for (const name of names) {
    const value = callerEnv[name];
    if (value === undefined || value === '') {
      if (!listed.get(name)) missing.push(name);
      continue;
    }
    env[name] = value;
  }
  // A required secret not passed with --env is still required.
  for (const [name, optional] of listed) {
    if (!optional && !names.includes(name) && !callerEnv[name]) missing.push(name);
  }
  if (missing.length > 0)
    throw new AionError('EX019', `required secret ${missing.join(', ')} is not set: the module was not started`, {
      hint: `export ${missing[0]}=... before running (its value is passed to the module only)`,
    });
  return { env, values: Object.values(env).filter((v) => v.length >= 3) };
}

/** Replaces every secret value (raw and JSON-escaped) in `text`. */
export function redact(text: string, secrets: string[]): string {
  let out = text;
  for (const value of secrets) {
    out = out.split(value).join('[REDACTED]');
    const escaped = JSON.stringify(value).slice(1, -1);
    if (escaped !== value) out = out.split(escaped).join('[REDACTED]');
  }
  return out;
}

/** Parses `HOST[:GUEST][:ro|:rw]`. */
export function parseDirGrant(spec: string, cwd: string): DirGrant {
  let rest = spec;
  let mode: 'ro' | 'rw' = 'ro';
  const m = /:(ro|rw)$/.exec(rest);
  if (m) {
    mode = m[1] as 'ro' | 'rw';
    rest = rest.slice(0, -3);
  }
  const colon = rest.indexOf(':');
  const hostPart = colon >= 0 ? rest.slice(0, colon) : rest;
  const host = resolve(cwd, hostPart);
  const guest = colon >= 0 ? rest.slice(colon + 1) : `/mnt/${host.split(sep).filter(Boolean).pop() ?? 'dir'}`;
  if (!isAbsolute(guest) || normalize(guest) !== guest || guest === '/')
    throw new AionError('CI001', `--dir ${spec}: the guest path must be absolute and normalised`, {
      hint: 'use --dir HOST[:GUEST][:ro|:rw], e.g. --dir ./data:/data:ro',
    });
  return { host, guest, mode };
}

function inside(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

const RESERVED_GUESTS = ['/pkg', '/scratch', '/aionctl', '/proc', '/dev', '/tmp', '/usr', '/etc', '/bin', '/lib'];

/**
 * The directory grants of a run: the manifest's `permissions.paths` (relative to cwd) with its filesystem mode,
 * plus `--dir` grants, each only within what the manifest permits (EX029 otherwise).
 */
export function grantDirs(manifest: AgentPackage, cwd: string, requested: Array<string | DirGrant> = []): DirGrant[] {
  const fs = manifest.permissions?.filesystem ?? 'deny';
  const mode: 'ro' | 'rw' = fs === 'read-write' ? 'rw' : 'ro';
  const declared = (manifest.permissions?.paths ?? []).map((p) => resolve(cwd, p));
  const grants: DirGrant[] =
    fs === 'deny'
      ? []
      : declared.map((host) => ({
          host,
          guest: `/mnt/${relative(cwd, host).split(sep).filter(Boolean).join('/') || 'cwd'}`,
          mode,
        }));
  for (const item of requested) {
    const grant = typeof item === 'string' ? parseDirGrant(item, cwd) : item;
    const shown = `--dir ${grant.host}:${grant.guest}:${grant.mode}`;
    if (fs === 'deny')
      throw new AionError('EX029', `${shown}: the package has permissions.filesystem: deny`, {
        hint: 'the package may not see any directory',
      });
    if (grant.mode === 'rw' && fs !== 'read-write')
      throw new AionError('EX029', `${shown}: the package may only read (permissions.filesystem: ${fs})`, {
        hint: 'grant it read-only (:ro)',
      });
    if (declared.length > 0 && !declared.some((d) => inside(grant.host, d)))
      throw new AionError('EX029', `${shown}: outside the paths the package declares (${declared.join(', ')})`, {
        hint: 'grant one of the declared paths (or a directory inside one)',
      });
    if (RESERVED_GUESTS.some((r) => inside(grant.guest, r)))
      throw new AionError('EX029', `${shown}: ${grant.guest} is reserved inside the sandbox`, {
        hint: 'mount it elsewhere, e.g. /data',
      });
    grants.push(grant);
  }
  return grants;
}
