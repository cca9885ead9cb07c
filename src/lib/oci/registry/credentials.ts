/**
 * Registry credentials in Docker's config.json format, read and written the way docker, oras and helm do:
 * `$DOCKER_CONFIG/config.json` (else `~/.docker/config.json`); per host `credHelpers[host]`, then `credsStore`,
 * then the plaintext `auths` map. Helpers are `docker-credential-<name> get|store|erase` speaking JSON on stdin/out.
 * Secrets are never logged or put in error messages.
 */
import { chmod, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { AionError, fsError } from '../../errors/index.js';
import { ensureDir, writeFileAtomic } from '../../fs/index.js';
import { DOCKER_HUB, DOCKER_HUB_API_HOST } from '../reference.js';
import type { Env } from '../../env/index.js';

export interface Credential {
  username?: string;
  password?: string;
  /** OAuth2 refresh token (docker's `identitytoken`): exchanged at the token realm. */
  identityToken?: string;
  /** A bearer token used as is (`registrytoken`). */
  registryToken?: string;
}

export interface DockerConfig {
  auths?: Record<
    string,
    { auth?: string; username?: string; password?: string; identitytoken?: string; registrytoken?: string }
  >;
  credHelpers?: Record<string, string>;
  credsStore?: string;
  [key: string]: unknown;
}

export type { Env };

const DOCKER_HUB_KEY = 'https://index.docker.io/v1/';

export function dockerConfigPath(env: Env): string {
  const dir = env.DOCKER_CONFIG || join(env.HOME || homedir(), '.docker');
  return join(dir, 'config.json');
}

/** The keys a host may be stored under (`https://host/` forms are what old docker wrote). */
export function serverKeys(host: string): string[] {
  if (host === DOCKER_HUB || host === DOCKER_HUB_API_HOST || host === 'index.docker.io') {
    return [DOCKER_HUB_KEY, DOCKER_HUB, 'index.docker.io', DOCKER_HUB_API_HOST];
  }
  return [host, `https://${host}`, `https://${host}/`, `http://${host}`, `http://${host}/`, `https://${host}/v2/`];
}

/** The key `login` writes for a host. */
export function primaryKey(host: string): string {
  return serverKeys(host)[0] as string;
}

export async function loadDockerConfig(path: string): Promise<DockerConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw fsError(err, path);
  }
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new AionError('RG016', `${path} is not valid JSON`, {
      cause: err,
      hint: 'fix or remove the file (it holds registry credentials in Docker format)',
    });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new AionError('RG016', `${path} is not a JSON object`, { hint: 'fix or remove the file' });
  }
  return parsed as DockerConfig;
}

function helperFor(config: DockerConfig, host: string): string | undefined {
  for (const key of serverKeys(host)) {
    const helper = config.credHelpers?.[key];
    if (helper) return helper;
  }
  return config.credsStore || undefined;
}

async function runHelper(helper: string, action: 'get' | 'store' | 'erase', input: string, env: Env) {
  const bin = `docker-credential-${helper}`;
  try {
    const { execa } = await import('execa'); // lazy: only credential helpers need it
    return await execa(bin, [action], { input, reject: false, env: env as NodeJS.ProcessEnv, timeout: 60_000 });
  } catch (err) {
    throw new AionError('RG017', `credential helper ${bin} could not be run`, {
      cause: err,
      hint: `install ${bin} or remove "${helper}" from credHelpers/credsStore in the Docker config`,
    });
  }
}

function helperFailed(
  helper: string,
  action: string,
  result: { exitCode?: number; stderr?: unknown; stdout?: unknown },
) {
  const text = `${String(result.stderr ?? '')} ${String(result.stdout ?? '')}`.trim();
  const notInstalled =
    result.exitCode === undefined || result.exitCode === 127 || /ENOENT|not found: docker-credential/.test(text);
  return new AionError('RG017', `docker-credential-${helper} ${action} failed (exit ${result.exitCode ?? '?'})`, {
    hint: notInstalled
      ? `install docker-credential-${helper} or remove it from the Docker config`
      : 'check the helper (is its keychain unlocked / service running?)',
  });
}

function decodeAuth(entry: NonNullable<DockerConfig['auths']>[string]): Credential | undefined {
  const out: Credential = {};
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) {
      out.username = decoded.slice(0, colon);
      out.password = decoded.slice(colon + 1);
    }
  } else if (entry.username) {
    out.username = entry.username;
    out.password = entry.password ?? '';
  }
  if (entry.identitytoken) out.identityToken = entry.identitytoken;
  if (entry.registrytoken) out.registryToken = entry.registrytoken;
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Credentials for a registry host, or undefined (anonymous). */
export async function getCredential(host: string, env: Env): Promise<Credential | undefined> {
  const config = await loadDockerConfig(dockerConfigPath(env));
  const helper = helperFor(config, host);
  if (helper) {
    for (const key of helper === config.credsStore ? serverKeys(host) : [primaryKey(host)]) {
      const result = await runHelper(helper, 'get', key, env);
      if (result.exitCode === 0) {
        let parsed: { Username?: string; Secret?: string };
        try {
          parsed = JSON.parse(String(result.stdout)) as { Username?: string; Secret?: string };
        } catch (err) {
          throw new AionError('RG017', `docker-credential-${helper} get returned invalid JSON`, { cause: err });
        }
        if (parsed.Username === '<token>') return { identityToken: parsed.Secret ?? '' };
        return { username: parsed.Username ?? '', password: parsed.Secret ?? '' };
      }
      if (!/credentials not found/i.test(`${String(result.stdout)}${String(result.stderr)}`)) {
        throw helperFailed(helper, 'get', result);
      }
    }
    // the helper has nothing: fall through to plaintext auths (docker does the same for credsStore)
  }
  for (const key of serverKeys(host)) {
    const entry = config.auths?.[key];
    if (entry) {
      const credential = decodeAuth(entry);
      if (credential) return credential;
    }
  }
  return undefined;
}

async function writeConfig(path: string, config: DockerConfig): Promise<void> {
  await ensureDir(dirname(path), 0o700);
  await writeFileAtomic(path, `${JSON.stringify(config, null, '\t')}\n`, { mode: 0o600 });
  // writeFileAtomic keeps an existing file's mode; a file holding secrets must not stay world-readable.
  await chmod(path, 0o600).catch((err: unknown) => {
    throw fsError(err, path, 'write');
  });
}

/** Stores credentials where docker would: the host's helper, else `auths` in config.json (mode 0600). */
export async function storeCredential(
  host: string,
  credential: { username: string; password: string },
  env: Env,
): Promise<{ location: string }> {
  const path = dockerConfigPath(env);
  const config = await loadDockerConfig(path);
  const helper = helperFor(config, host);
  const key = primaryKey(host);
  if (helper) {
    const input = JSON.stringify({ ServerURL: key, Username: credential.username, Secret: credential.password });
    const result = await runHelper(helper, 'store', input, env);
    if (result.exitCode !== 0) throw helperFailed(helper, 'store', result);
    return { location: `docker-credential-${helper}` };
  }
  config.auths ??= {};
  for (const other of serverKeys(host)) delete config.auths[other];
  config.auths[key] = { auth: Buffer.from(`${credential.username}:${credential.password}`).toString('base64') };
  await writeConfig(path, config);
  return { location: path };
}

/** Removes stored credentials for a host; false when there were none. */
export async function eraseCredential(host: string, env: Env): Promise<boolean> {
  const path = dockerConfigPath(env);
  const config = await loadDockerConfig(path);
  let removed = false;
  const helper = helperFor(config, host);
  if (helper) {
    const result = await runHelper(helper, 'erase', primaryKey(host), env);
    if (result.exitCode === 0) removed = true;
    else if (!/credentials not found/i.test(`${String(result.stdout)}${String(result.stderr)}`)) {
      throw helperFailed(helper, 'erase', result);
    }
  }
  for (const key of serverKeys(host)) {
    if (config.auths?.[key]) {
      delete config.auths[key];
      removed = true;
    }
  }
  if (removed && !helper) await writeConfig(path, config);
  else if (removed && helper && config.auths) await writeConfig(path, config);
  return removed;
}
