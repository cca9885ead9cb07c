/**
 * cosign's password-encrypted private key format (go-securesystemslib `encrypted`): PEM whose body is base64 JSON
 * `{kdf: scrypt(N, r=8, p=1, salt), cipher: nacl/secretbox(nonce), ciphertext}` over the PKCS#8 DER key.
 * Primitives: node:crypto scrypt (maxmem raised: Node's 32 MiB default refuses N=32768) and tweetnacl secretbox.
 */
import { randomBytes, scryptSync } from 'node:crypto';
import { createRequire } from 'node:module';
import type Nacl from 'tweetnacl';
import { AionError } from '../errors/index.js';

// tweetnacl is only needed to encrypt or decrypt a private key: loaded on first use, not by `verify` (issue 15).
let naclModule: typeof Nacl | undefined;
const nacl = (): typeof Nacl => (naclModule ??= createRequire(import.meta.url)('tweetnacl') as typeof Nacl);

export const SIGSTORE_KEY_LABEL = 'ENCRYPTED SIGSTORE PRIVATE KEY';
export const COSIGN_KEY_LABEL = 'ENCRYPTED COSIGN PRIVATE KEY';
/** The scrypt work factors cosign accepts on decrypt; anything else is refused before any work is done. */
export const ACCEPTED_SCRYPT_N = [32768, 65536, 131072] as const;
/** What we write: the N every cosign and containers/image version reads. */
export const DEFAULT_SCRYPT_N = 32768;

interface EncryptedKeyJson {
  kdf: { name: string; params: { N: number; r: number; p: number }; salt: string };
  cipher: { name: string; nonce: string };
  ciphertext: string;
}

export interface PemBlock {
  label: string;
  der: Buffer;
}

/** Every PEM block in `text`, in order. */
export function parsePemBlocks(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  const re = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
  for (const m of text.matchAll(re)) {
    const body = (m[2] ?? '').replace(/^[A-Za-z-]+:.*$/gm, '').replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body)) continue;
    blocks.push({ label: m[1] as string, der: Buffer.from(body, 'base64') });
  }
  return blocks;
}

export function toPem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

function deriveKey(password: string, salt: Uint8Array, n: number): Buffer {
  return scryptSync(Buffer.from(password, 'utf8'), salt, 32, { N: n, r: 8, p: 1, maxmem: 256 * n * 8 });
}

/** Encrypts PKCS#8 DER into cosign's encrypted PEM. */
export function encryptPrivateKey(
  pkcs8Der: Uint8Array,
  password: string,
  options: { label?: string; n?: number } = {},
): string {
  const n = options.n ?? DEFAULT_SCRYPT_N;
  const salt = randomBytes(32);
  const nonce = randomBytes(24);
  const key = deriveKey(password, salt, n);
  const ciphertext = nacl().secretbox(new Uint8Array(pkcs8Der), new Uint8Array(nonce), new Uint8Array(key));
  const json: EncryptedKeyJson = {
    kdf: { name: 'scrypt', params: { N: n, r: 8, p: 1 }, salt: salt.toString('base64') },
    cipher: { name: 'nacl/secretbox', nonce: nonce.toString('base64') },
    ciphertext: Buffer.from(ciphertext).toString('base64'),
  };
  return toPem(options.label ?? SIGSTORE_KEY_LABEL, Buffer.from(JSON.stringify(json)));
}

function b64Field(value: unknown, what: string, length?: number): Uint8Array {
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(value))
    throw new AionError('ST008', `encrypted key: ${what} is not base64`);
  const bytes = Buffer.from(value, 'base64');
  if (length !== undefined && bytes.length !== length)
    throw new AionError('ST008', `encrypted key: ${what} must be ${length} bytes, got ${bytes.length}`);
  return new Uint8Array(bytes);
}

/** Decrypts the body (DER of the JSON) of an encrypted cosign key to PKCS#8 DER. ST007 on a wrong password. */
export function decryptPrivateKey(body: Uint8Array, password: string): Buffer {
  let json: EncryptedKeyJson;
  try {
    json = JSON.parse(Buffer.from(body).toString('utf8')) as EncryptedKeyJson;
  } catch (err) {
    throw new AionError('ST008', 'encrypted key: the PEM body is not the JSON cosign writes', { cause: err });
  }
  const { kdf, cipher } = json ?? ({} as EncryptedKeyJson);
  if (kdf?.name !== 'scrypt' || cipher?.name !== 'nacl/secretbox')
    throw new AionError('ST006', `encrypted key: unsupported kdf/cipher ${kdf?.name}/${cipher?.name}`, {
      hint: 'cosign keys use scrypt + nacl/secretbox',
    });
  const { N, r, p } = kdf.params ?? ({} as EncryptedKeyJson['kdf']['params']);
  if (!(ACCEPTED_SCRYPT_N as readonly number[]).includes(N) || r !== 8 || p !== 1)
    throw new AionError('ST006', `encrypted key: unsupported scrypt parameters N=${N} r=${r} p=${p}`);
  const salt = b64Field(kdf.salt, 'salt');
  const nonce = b64Field(cipher.nonce, 'nonce', 24);
  const ciphertext = b64Field(json.ciphertext, 'ciphertext');
  const key = deriveKey(password, salt, N);
  const plain = nacl().secretbox.open(ciphertext, nonce, new Uint8Array(key));
  if (!plain)
    throw new AionError('ST007', 'cannot decrypt the private key: wrong password or corrupted key file', {
      hint: 'set COSIGN_PASSWORD (or AIONCTL_PASSWORD) to the password the key was created with',
    });
  return Buffer.from(plain);
}
