/**
 * Key material: ECDSA P-256 by default (cosign's default), SPKI public keys, cosign-encrypted private keys.
 * Ed25519 is refused: cosign loads Ed25519 keys as Ed25519ph, which node:crypto cannot produce or check.
 */
import {
  type KeyObject,
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
} from 'node:crypto';
import { AionError } from '../errors/index.js';
import {
  COSIGN_KEY_LABEL,
  DEFAULT_SCRYPT_N,
  SIGSTORE_KEY_LABEL,
  decryptPrivateKey,
  encryptPrivateKey,
  parsePemBlocks,
} from './encrypted-key.js';

export interface SigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** Shorter RSA keys are factorable: refused for signing and verifying alike. */
export const MIN_RSA_BITS = 2048;

/** Refuses key types we cannot sign or verify exactly as cosign does. */
export function assertSupportedKey(key: KeyObject, what: string): void {
  const type = key.asymmetricKeyType;
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1' || curve === 'secp384r1' || curve === 'secp521r1') return;
    throw new AionError('ST006', `${what}: unsupported elliptic curve ${curve}`, { hint: 'use ECDSA P-256' });
  }
  if (type === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits >= MIN_RSA_BITS) return;
    throw new AionError('ST022', `${what}: RSA key of ${bits} bits is too short (at least ${MIN_RSA_BITS})`, {
      hint: 'use ECDSA P-256 (cosign default) or RSA of 2048 bits or more',
    });
  }
  throw new AionError('ST006', `${what}: unsupported key type ${type}`, {
    hint:
      type === 'ed25519'
        ? 'cosign uses Ed25519ph, which Node cannot do; use an ECDSA P-256 key'
        : 'use ECDSA P-256 (cosign default) or RSA',
  });
}

export function generateSigningKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privateKey, publicKey };
}

/** SPKI PEM (`PUBLIC KEY`), as cosign writes cosign.pub. */
export function publicKeyPem(key: KeyObject): string {
  return key.export({ type: 'spki', format: 'pem' }).toString();
}

export function spkiDer(key: KeyObject): Buffer {
  return key.export({ type: 'spki', format: 'der' });
}

/** sha256 hex of the SPKI DER: the key's fingerprint (cache keys, messages). */
export function keyFingerprint(key: KeyObject): string {
  return createHash('sha256').update(spkiDer(key)).digest('hex');
}

/** Sigstore bundle key hint: base64(sha256(SPKI DER)), as cosign and sigstore-go write it. */
export function keyHint(key: KeyObject): string {
  return createHash('sha256').update(spkiDer(key)).digest('base64');
}

export function encryptSigningKey(key: SigningKey, password: string, options: { label?: string; n?: number } = {}) {
  const der = key.privateKey.export({ type: 'pkcs8', format: 'der' });
  return encryptPrivateKey(der, password, {
    label: options.label ?? SIGSTORE_KEY_LABEL,
    n: options.n ?? DEFAULT_SCRYPT_N,
  });
}

function fromPkcs8(der: Buffer, what: string): SigningKey {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  } catch (err) {
    throw new AionError('ST008', `${what}: the decrypted key is not a PKCS#8 private key`, {
      cause: err,
      hint: 'cosign keys hold PKCS#8; import a SEC1 "EC PRIVATE KEY" PEM with `aionctl key import` instead',
    });
  }
  assertSupportedKey(privateKey, what);
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

/** Whether a private key PEM needs a password (cosign encrypted format). */
export function isEncryptedKeyPem(text: string): boolean {
  return text.includes(`BEGIN ${SIGSTORE_KEY_LABEL}`) || text.includes(`BEGIN ${COSIGN_KEY_LABEL}`);
}

/**
 * Reads a private key: cosign's encrypted PEM (both labels; needs `password`), or — for `key import` — an
 * unencrypted PKCS#8 `PRIVATE KEY`, SEC1 `EC PRIVATE KEY` or PKCS#1 `RSA PRIVATE KEY`, as `cosign import-key-pair`.
 */
export function loadPrivateKey(
  text: string,
  password: string | undefined,
  what = 'private key',
  options: { allowUnencrypted?: boolean } = {},
): SigningKey {
  const blocks = parsePemBlocks(text);
  if (blocks.length === 0) throw new AionError('ST008', `${what}: no PEM block found`, { hint: 'pass a cosign.key' });
  const block = blocks.find((b) => b.label.includes('PRIVATE KEY'));
  if (!block) throw new AionError('ST008', `${what}: no private key in the PEM (found ${blocks[0]?.label})`);
  if (block.label === SIGSTORE_KEY_LABEL || block.label === COSIGN_KEY_LABEL) {
    if (password === undefined) throw new AionError('ST007', `${what}: a password is needed to decrypt the key`);
    return fromPkcs8(decryptPrivateKey(block.der, password), what);
  }
  if (block.label === 'ENCRYPTED PRIVATE KEY')
    throw new AionError('ST006', `${what}: encrypted PKCS#8 keys are not supported (neither does cosign)`, {
      hint: 'decrypt it first: openssl pkcs8 -in key.pem -out plain.pem',
    });
  if (!options.allowUnencrypted)
    throw new AionError('ST008', `${what}: an unencrypted ${block.label} cannot be used directly`, {
      hint: 'run `aionctl key import FILE` to store it encrypted',
    });
  const type =
    block.label === 'PRIVATE KEY'
      ? 'pkcs8'
      : block.label === 'EC PRIVATE KEY'
        ? 'sec1'
        : block.label === 'RSA PRIVATE KEY'
          ? 'pkcs1'
          : undefined;
  if (!type) throw new AionError('ST006', `${what}: unsupported PEM type ${block.label}`);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: block.der, format: 'der', type });
  } catch (err) {
    throw new AionError('ST008', `${what}: cannot parse the ${block.label}`, { cause: err });
  }
  assertSupportedKey(privateKey, what);
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

/** Reads a `PUBLIC KEY` PEM (SPKI). A malformed key (not a curve point) is ST008, never a crash. */
export function loadPublicKey(text: string, what = 'public key'): KeyObject {
  const block = parsePemBlocks(text).find((b) => b.label === 'PUBLIC KEY');
  if (!block) throw new AionError('ST008', `${what}: no "PUBLIC KEY" PEM block found`, { hint: 'pass a cosign.pub' });
  let key: KeyObject;
  try {
    key = createPublicKey({ key: block.der, format: 'der', type: 'spki' });
  } catch (err) {
    throw new AionError('ST008', `${what}: cannot parse the public key (${(err as Error).message})`, { cause: err });
  }
  assertSupportedKey(key, what);
  return key;
}

/** ASN.1 DER ECDSA (or PKCS#1 v1.5 RSA) signature over SHA-256 of `data`, as cosign's default signer. */
export function signBytes(key: KeyObject, data: Uint8Array): Buffer {
  return sign('sha256', data, key);
}

export function verifyBytes(key: KeyObject, data: Uint8Array, signature: Uint8Array): boolean {
  try {
    return verify('sha256', data, key, signature);
  } catch {
    return false;
  }
}
