/** What the key/sign/verify commands share: passwords, opening the artifact a reference names, flag parsing. */
import { access } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { AionError } from '../errors/index.js';
import { writeFileAtomic } from '../fs/index.js';
import { parseReference } from '../oci/reference.js';
import type { ConnectOptions } from '../oci/registry/index.js';
import { openTarget } from '../oci/targets.js';
import type { ArtifactReference, Target } from '../oci/types.js';
import type { Env } from './key-source.js';
import { encryptSigningKey, keyFingerprint, publicKeyPem, type SigningKey } from './keys.js';

/** Reads a line from the terminal without echoing it. */
async function promptHidden(question: string): Promise<string> {
  const muted = new Writable({ write: (_c, _e, cb) => cb() });
  process.stderr.write(question);
  const rl = createInterface({ input: process.stdin, output: muted, terminal: true });
  try {
    return await new Promise<string>((res) => rl.question('', res));
  } finally {
    rl.close();
    process.stderr.write('\n');
  }
}

/**
 * The key password: $COSIGN_PASSWORD (cosign's variable, may be empty), then $AIONCTL_PASSWORD, then a prompt
 * when stdin is a terminal; otherwise CI003 (never hang in CI waiting for input).
 */
export async function readPassword(env: Env, options: { confirm?: boolean } = {}): Promise<string> {
  if (env.COSIGN_PASSWORD !== undefined) return env.COSIGN_PASSWORD;
  if (env.AIONCTL_PASSWORD !== undefined) return env.AIONCTL_PASSWORD;
  if (!process.stdin.isTTY)
    throw new AionError('CI003', 'a key password is needed and there is no terminal to ask for it', {
      hint: 'set COSIGN_PASSWORD (or AIONCTL_PASSWORD); an empty value means no password',
    });
  const first = await promptHidden('Enter password for private key: ');
  if (options.confirm) {
    const second = await promptHidden('Enter password for private key again: ');
    if (first !== second) throw new AionError('CI001', 'the passwords do not match');
  }
  return first;
}

export interface OpenedArtifact {
  ref: ArtifactReference;
  target: Target;
  /** Tag or digest to resolve. */
  selector: string;
  /** The default signed identity: the repository, without tag or digest. */
  identity: string;
}

/** The identity a reference's artifact is signed for and verified against by default. */
export function defaultIdentity(ref: ArtifactReference): string {
  switch (ref.kind) {
    case 'registry':
      return `${ref.registry}/${ref.repository}`;
    case 'store':
      return ref.repository;
    case 'layout':
      return `oci:${resolve(ref.path)}`;
  }
}

export interface OpenArtifactOptions {
  env: Env;
  plainHttp?: boolean;
  registry?: ConnectOptions;
}

export async function openArtifact(reference: string, options: OpenArtifactOptions): Promise<OpenedArtifact> {
  const env = options.env;
  const ref = parseReference(reference, { plainHttp: options.plainHttp });
  const selector = ref.digest ?? ref.tag;
  if (!selector)
    throw new AionError('RG020', `${reference} names no tag or digest`, { hint: `e.g. ${reference}:1.0.0` });
  const target = await openTarget(ref, { env, registry: options.registry });
  return { ref, target, selector, identity: defaultIdentity(ref) };
}

/** $COSIGN_REPOSITORY: another repository (same kind of place) that holds the `.sig` tags. */
export async function openSignatureRepository(options: OpenArtifactOptions): Promise<Target | undefined> {
  const env = options.env;
  const repo = env.COSIGN_REPOSITORY;
  if (!repo) return undefined;
  const ref = parseReference(repo, { plainHttp: options.plainHttp });
  if (ref.tag || ref.digest)
    throw new AionError('CI001', `COSIGN_REPOSITORY=${repo} must name a repository, without tag or digest`);
  return openTarget(ref, { env, registry: options.registry });
}

/** `-a key=value` flags → a map (cosign's `optional`). */
export function parseAnnotations(values: readonly string[] | undefined): Record<string, string> | undefined {
  if (!values || values.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq <= 0) throw new AionError('CI001', `annotation "${v}" is not key=value`);
    out[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return out;
}

/** Refuses to overwrite key files unless --force: losing a private key is not undoable. */
export async function assertAbsent(paths: string[], force: boolean): Promise<void> {
  if (force) return;
  for (const p of paths) {
    const exists = await access(p).then(
      () => true,
      () => false,
    );
    if (exists) throw new AionError('CI001', `${p} already exists`, { hint: 'pass --force to overwrite it' });
  }
}

/** 0600 always, also when replacing an older file with a looser mode; atomic, so a crash never loses the old key. */
export async function writePrivateKey(path: string, pem: string): Promise<void> {
  await writeFileAtomic(path, pem, { mode: 0o600, forceMode: true });
}

export interface KeyFilesResult {
  privateKey: string;
  publicKey: string;
  fingerprint: string;
}

/**
 * Writes PREFIX.key (cosign's encrypted format, 0600) and PREFIX.pub (SPKI PEM), refusing to overwrite either
 * unless `force`. Shared by `key generate` and `key import`.
 */
export async function writeKeyPair(
  prefix: string,
  key: SigningKey,
  password: string,
  options: { force: boolean; label?: string },
): Promise<KeyFilesResult> {
  const privateKey = `${prefix}.key`;
  const publicKey = `${prefix}.pub`;
  await assertAbsent([privateKey, publicKey], options.force);
  await writePrivateKey(privateKey, encryptSigningKey(key, password, { label: options.label }));
  await writeFileAtomic(publicKey, publicKeyPem(key.publicKey), { mode: 0o644 });
  return { privateKey, publicKey, fingerprint: keyFingerprint(key.publicKey) };
}
