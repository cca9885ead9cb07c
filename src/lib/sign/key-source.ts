/**
 * Where a key comes from. `--key` takes a file path or `env://VAR`; KMS schemes are recognised so they get a
 * clear "not supported yet" error instead of being read as a file name, and a KMS source can be added by
 * implementing KeySource (sign: the KMS signs; verify: the KMS returns the public key).
 */
import type { KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { AionError, fsError } from '../errors/index.js';
import { type SigningKey, keyFingerprint, loadPrivateKey, loadPublicKey, signBytes } from './keys.js';
import type { Env } from '../env/index.js';

/** A key that can sign: the private key may live elsewhere (KMS), the public key is always known. */
export interface Signer {
  readonly publicKey: KeyObject;
  sign(data: Uint8Array): Promise<Buffer>;
}

export interface KeySource {
  /** What the user gave, for messages (never the key itself). */
  readonly description: string;
  signer(password: () => Promise<string>): Promise<Signer>;
  publicKey(): Promise<KeyObject>;
}

const KMS_SCHEMES = ['awskms://', 'gcpkms://', 'azurekms://', 'hashivault://', 'k8s://', 'pkcs11:'];

export type { Env };

async function readKeyText(ref: string, env: Env): Promise<string> {
  if (ref.startsWith('env://')) {
    const name = ref.slice('env://'.length);
    const value = env[name];
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
      throw new AionError('CI001', `--key ${ref}: "${name}" is not an environment variable name`);
    if (value === undefined || value === '')
      throw new AionError('CI003', `--key ${ref}: environment variable ${name} is not set`, {
        hint: `export ${name}="$(cat cosign.key)"`,
      });
    return value;
  }
  try {
    return await readFile(ref, 'utf8');
  } catch (err) {
    throw fsError(err, ref);
  }
}

/** A key held as PEM text in a file or an environment variable. */
class PemKeySource implements KeySource {
  constructor(
    readonly description: string,
    private readonly ref: string,
    private readonly env: Env,
  ) {}

  async signer(password: () => Promise<string>): Promise<Signer> {
    const text = await readKeyText(this.ref, this.env);
    if (text.includes('BEGIN PUBLIC KEY') && !text.includes('PRIVATE KEY'))
      throw new AionError('ST008', `${this.description} is a public key; signing needs the private key`, {
        hint: 'pass cosign.key, not cosign.pub',
      });
    const needsPassword =
      text.includes('ENCRYPTED SIGSTORE PRIVATE KEY') || text.includes('ENCRYPTED COSIGN PRIVATE KEY');
    const key: SigningKey = loadPrivateKey(text, needsPassword ? await password() : undefined, this.description);
    return { publicKey: key.publicKey, sign: async (data) => signBytes(key.privateKey, data) };
  }

  async publicKey(): Promise<KeyObject> {
    const text = await readKeyText(this.ref, this.env);
    return loadPublicKey(text, this.description);
  }
}

/** Parses `--key`: a path, `env://VAR`, or a KMS URI (refused for now, with a clear error). */
export function keySource(ref: string, env: Env = process.env): KeySource {
  if (ref.trim() === '') throw new AionError('CI001', '--key is empty');
  const kms = KMS_SCHEMES.find((s) => ref.startsWith(s));
  if (kms)
    throw new AionError('ST006', `key source ${kms} is not supported yet`, {
      hint: 'use a cosign key file (aionctl key generate) or env://VAR holding the PEM',
    });
  return new PemKeySource(ref.startsWith('env://') ? ref : `key file ${ref}`, ref, env);
}

/** Fingerprints of several public keys, for cache keys and messages. */
export function fingerprints(keys: KeyObject[]): string[] {
  return keys.map(keyFingerprint);
}
