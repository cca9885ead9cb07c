/** What the key/sign/verify commands share: passwords, opening the artifact a reference names, flag parsing. */
import { access } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseKeyValues } from '../env/index.js';
import { AionError } from '../errors/index.js';
import { writeFileAtomic } from '../fs/index.js';
import { parseReference, requireSelector } from '../oci/reference.js';
import type { ConnectOptions } from '../oci/registry/index.js';
import { openTarget } from '../oci/targets.js';
import type { ArtifactReference, Target } from '../oci/types.js';
import type { Env } from './key-source.js';
import { encryptSigningKey, keyFingerprint, publicKeyPem, type SigningKey } from './keys.js';

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
  env?: Env;
  plainHttp?: boolean;
  registry?: ConnectOptions;
}

export async function openArtifact(reference: string, options: OpenArtifactOptions = {}): Promise<OpenedArtifact> {
  const env = options.env ?? process.env;
  const ref = parseReference(reference, { plainHttp: options.plainHttp });
  const selector = requireSelector(ref);
  const target = await openTarget(ref, { env, registry: options.registry });
  return { ref, target, selector, identity: defaultIdentity(ref) };
}

/** $COSIGN_REPOSITORY: another repository (same kind of place) that holds the `.sig` tags. */
export async function openSignatureRepository(options: OpenArtifactOptions = {}): Promise<Target | undefined> {
  const env = options.env ?? process.env;
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
  return parseKeyValues(values, 'annotation');
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
