/**
 * Checks for classic signatures that carry a certificate (Fulcio keyless, or a private CA) and for Rekor SETs
 * (`dev.sigstore.cosign/bundle`), all offline against roots/keys the user supplies. Chain building and signature
 * checks use node:crypto's X509Certificate; the Fulcio issuer extension is read with @sigstore/core.
 */
import { type KeyObject, X509Certificate, createHash, createPublicKey, verify } from 'node:crypto';
import { createRequire } from 'node:module';
import type * as SigstoreCore from '@sigstore/core';
import { AionError } from '../errors/index.js';
import { parsePemBlocks } from './encrypted-key.js';

// @sigstore/core (23 modules) only reads the Fulcio issuer extension: loaded on first use (issue 15).
let sigstoreCore: typeof SigstoreCore | undefined;
const core = (): typeof SigstoreCore =>
  (sigstoreCore ??= createRequire(import.meta.url)('@sigstore/core') as typeof SigstoreCore);

export interface CertificatePolicy {
  /** Trusted roots (Fulcio CA or a private CA). */
  roots: X509Certificate[];
  /** Extra intermediates besides the signature's own chain annotation. */
  intermediates?: X509Certificate[];
  /** Each must appear in the leaf's SAN (email, URI or DNS name). */
  identities: string[];
  /** Required OIDC issuer (Fulcio extension 1.3.6.1.4.1.57264.1.1 / .1.8), when given. */
  oidcIssuer?: string;
}

export function parseCertificates(pem: string): X509Certificate[] {
  return parsePemBlocks(pem)
    .filter((b) => b.label === 'CERTIFICATE')
    .map((b) => new X509Certificate(b.der));
}

/** Email / URI / DNS entries of the SAN. */
export function sanEntries(cert: X509Certificate): string[] {
  return (cert.subjectAltName ?? '')
    .split(/,\s*/)
    .map((s) => s.replace(/^(email|URI|DNS):/, ''))
    .filter(Boolean);
}

export function fulcioIssuer(cert: X509Certificate): string | undefined {
  const parsed = core().X509Certificate.parse(cert.raw);
  const v2 = parsed.extension('1.3.6.1.4.1.57264.1.8');
  if (v2) return v2.valueObj.value.toString('utf8');
  const v1 = parsed.extension('1.3.6.1.4.1.57264.1.1');
  return v1 ? v1.value.toString('utf8') : undefined;
}

function validAt(cert: X509Certificate, at: Date): boolean {
  return new Date(cert.validFrom) <= at && at <= new Date(cert.validTo);
}

/** Builds leaf → … → trusted root, every link signed by the next, every certificate valid at `at`. */
export function verifyChain(leaf: X509Certificate, pool: X509Certificate[], roots: X509Certificate[], at: Date): void {
  if (!validAt(leaf, at))
    throw new AionError(
      'ST010',
      `certificate is not valid at ${at.toISOString()} (${leaf.validFrom} – ${leaf.validTo})`,
    );
  let current = leaf;
  for (let depth = 0; depth < 10; depth++) {
    const root = roots.find((r) => current.checkIssued(r) && current.verify(r.publicKey));
    if (root) {
      if (!validAt(root, at)) throw new AionError('ST010', 'the trusted root is not valid at the signing time');
      return;
    }
    const next = pool.find((c) => c.ca && current.checkIssued(c) && current.verify(c.publicKey) && c !== current);
    if (!next) throw new AionError('ST010', 'certificate does not chain to a trusted root');
    if (!validAt(next, at))
      throw new AionError('ST010', 'an intermediate certificate is not valid at the signing time');
    current = next;
  }
  throw new AionError('ST010', 'certificate chain is too long');
}

export function checkCertificateIdentity(cert: X509Certificate, policy: CertificatePolicy): void {
  const san = sanEntries(cert);
  for (const id of policy.identities)
    if (!san.includes(id))
      throw new AionError('ST010', `certificate identity ${san.join(', ') || '(none)'} does not include ${id}`);
  if (policy.oidcIssuer !== undefined) {
    const issuer = fulcioIssuer(cert);
    if (issuer !== policy.oidcIssuer)
      throw new AionError('ST010', `certificate OIDC issuer is ${issuer ?? '(none)'}, expected ${policy.oidcIssuer}`);
  }
}

/** Rekor's signed entry timestamp as cosign stores it in `dev.sigstore.cosign/bundle`. */
export interface RekorSet {
  SignedEntryTimestamp: string;
  Payload: { body: string; integratedTime: number; logIndex: number; logID: string };
}

export function parseRekorSet(text: string): RekorSet {
  let v: RekorSet;
  try {
    v = JSON.parse(text) as RekorSet;
  } catch (err) {
    throw new AionError('ST005', 'the Rekor bundle annotation is not JSON', { cause: err });
  }
  const p = v?.Payload;
  if (
    typeof v?.SignedEntryTimestamp !== 'string' ||
    typeof p?.body !== 'string' ||
    typeof p.integratedTime !== 'number' ||
    typeof p.logIndex !== 'number' ||
    typeof p.logID !== 'string'
  )
    throw new AionError('ST005', 'the Rekor bundle annotation lacks SignedEntryTimestamp or Payload fields');
  return v;
}

/**
 * Verifies a SET: canonical JSON of the payload signed by one of `rekorKeys` (logID = sha256 of that key), and a
 * hashedrekord body that names this payload hash, this signature and this key/certificate. Returns the
 * integrated time (the trusted signing time for certificate validity).
 */
export function verifyRekorSet(
  set: RekorSet,
  rekorKeys: KeyObject[],
  signed: { payload: Uint8Array; signatureB64: string; signerDer: Buffer },
): Date {
  const p = set.Payload;
  const canonical = JSON.stringify({
    body: p.body,
    integratedTime: p.integratedTime,
    logID: p.logID,
    logIndex: p.logIndex,
  });
  const setSig = Buffer.from(set.SignedEntryTimestamp, 'base64');
  const key = rekorKeys.find(
    (k) =>
      createHash('sha256')
        .update(k.export({ type: 'spki', format: 'der' }))
        .digest('hex') === p.logID,
  );
  if (!key || !verify('sha256', Buffer.from(canonical), key, setSig))
    throw new AionError('ST011', 'the Rekor SET does not verify with the given Rekor key');
  let body: {
    kind?: string;
    spec?: {
      data?: { hash?: { algorithm?: string; value?: string } };
      signature?: { content?: string; publicKey?: { content?: string } };
    };
  };
  try {
    body = JSON.parse(Buffer.from(p.body, 'base64').toString('utf8'));
  } catch (err) {
    throw new AionError('ST011', 'the Rekor entry body is not JSON', { cause: err });
  }
  if (body.kind !== 'hashedrekord') throw new AionError('ST011', `unsupported Rekor entry kind ${body.kind}`);
  const hash = createHash('sha256').update(signed.payload).digest('hex');
  if (body.spec?.data?.hash?.algorithm !== 'sha256' || body.spec.data.hash.value !== hash)
    throw new AionError('ST011', 'the Rekor entry is for another payload');
  const entrySig = Buffer.from(body.spec?.signature?.content ?? '', 'base64');
  if (!entrySig.equals(Buffer.from(signed.signatureB64.replace(/\s+/g, ''), 'base64')))
    throw new AionError('ST011', 'the Rekor entry is for another signature');
  const pem = Buffer.from(body.spec?.signature?.publicKey?.content ?? '', 'base64').toString('utf8');
  const block = parsePemBlocks(pem)[0];
  const entryKeyDer =
    block?.label === 'CERTIFICATE'
      ? Buffer.from(new X509Certificate(block.der).raw)
      : block
        ? createPublicKey({ key: block.der, format: 'der', type: 'spki' }).export({ type: 'spki', format: 'der' })
        : Buffer.alloc(0);
  if (!entryKeyDer.equals(signed.signerDer)) throw new AionError('ST011', 'the Rekor entry names another key');
  return new Date(p.integratedTime * 1000);
}
