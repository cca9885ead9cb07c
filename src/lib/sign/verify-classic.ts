/**
 * The pure verifier of classic cosign signature layers: no disk, no network. A layer passes when its signature
 * verifies (key, or certificate chained to the given roots), its SET verifies when Rekor keys are given, its
 * payload is well-formed, names the artifact's digest and (when asked) the expected identity. The artifact is
 * verified when at least one layer passes; otherwise the failure that got furthest decides the error.
 */
import type { KeyObject, X509Certificate } from 'node:crypto';
import { AionError, type ErrorCode, isAionError } from '../errors/index.js';
import { MEDIA_TYPES } from '../oci/types.js';
import {
  CERTIFICATE_ANNOTATION,
  CHAIN_ANNOTATION,
  REKOR_BUNDLE_ANNOTATION,
  SIGNATURE_ANNOTATION,
  type SignatureLayer,
} from './attachment.js';
import { identityMismatch } from './identity.js';
import {
  type CertificatePolicy,
  checkCertificateIdentity,
  parseCertificates,
  parseRekorSet,
  verifyChain,
  verifyRekorSet,
} from './keyless.js';
import { keyFingerprint, verifyBytes } from './keys.js';
import { MAX_PAYLOAD_BYTES, type SimpleSigningPayload, parsePayload } from './payload.js';

export interface VerifyOptions {
  /** Public keys any of which may have signed. */
  keys: KeyObject[];
  /** `sha256:<hex>` of the artifact's manifest. */
  artifactDigest: string;
  /** The identity `docker-reference` must match; undefined skips the check (cosign's own behaviour). */
  expectedIdentity?: string;
  /** `-a key=value`: each must appear in the payload's `optional` (cosign's annotation claims). */
  annotations?: Record<string, string>;
  /** When given, every signature needs a Rekor SET that verifies with one of them. */
  rekorKeys?: KeyObject[];
  /** Keyless / private-CA signatures: certificate rules. */
  certificates?: CertificatePolicy;
  /** "Now" for certificates without a SET (tests pin it). */
  now?: Date;
}

export interface VerifiedSignature {
  /** 1-based position among the signatures found. */
  index: number;
  source: string;
  payload: Buffer;
  parsed: SimpleSigningPayload;
  /** Key fingerprint (sha256 of SPKI) or certificate identity. */
  signer: string;
}

export interface SignatureFailure {
  index: number;
  source: string;
  code: ErrorCode;
  message: string;
  /** How far the check got: a higher stage is a more telling reason. */
  stage: number;
}

export interface VerificationReport {
  verified: VerifiedSignature[];
  failures: SignatureFailure[];
  /** Signature layers looked at (other attachments are ignored). */
  considered: number;
}

const STAGE = {
  shape: 1,
  signature: 2,
  certificate: 3,
  tlog: 4,
  payload: 5,
  digest: 6,
  identity: 7,
  claims: 8,
} as const;

function fail(code: ErrorCode, message: string, stage: number): never {
  throw Object.assign(new AionError(code, message), { stage });
}

function checkLayer(layer: SignatureLayer, options: VerifyOptions): { parsed: SimpleSigningPayload; signer: string } {
  const sigB64 = layer.annotations[SIGNATURE_ANNOTATION];
  if (typeof sigB64 !== 'string' || sigB64.trim() === '')
    fail('ST005', `missing ${SIGNATURE_ANNOTATION} annotation`, STAGE.shape);
  const clean = sigB64.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(clean)) fail('ST005', 'signature annotation is not base64', STAGE.shape);
  const signature = Buffer.from(clean, 'base64');
  if (layer.payload.length > MAX_PAYLOAD_BYTES)
    fail('ST005', `payload is ${layer.payload.length} bytes (limit ${MAX_PAYLOAD_BYTES})`, STAGE.shape);

  let signer: string;
  let signerDer: Buffer;
  let certificate: X509Certificate | undefined;
  const certPem = layer.annotations[CERTIFICATE_ANNOTATION];
  if (options.certificates && certPem) {
    certificate = parseCertificates(certPem)[0];
    if (!certificate) fail('ST005', 'certificate annotation holds no certificate', STAGE.shape);
    if (!verifyBytes(certificate.publicKey, layer.payload, signature))
      fail('ST002', 'signature does not verify with the certificate key', STAGE.signature);
    signer = certificate.subjectAltName ?? certificate.subject;
    signerDer = Buffer.from(certificate.raw);
  } else {
    const key = options.keys.find((k) => verifyBytes(k, layer.payload, signature));
    if (!key)
      fail(
        'ST002',
        options.keys.length === 0
          ? 'no key or certificate policy to verify with'
          : 'signature does not verify with the given key(s)',
        STAGE.signature,
      );
    signer = keyFingerprint(key);
    signerDer = key.export({ type: 'spki', format: 'der' });
  }

  let signedAt: Date | undefined;
  if (options.rekorKeys) {
    const setText = layer.annotations[REKOR_BUNDLE_ANNOTATION];
    if (!setText) fail('ST011', 'no Rekor SET on this signature, and Rekor verification was asked for', STAGE.tlog);
    try {
      signedAt = verifyRekorSet(parseRekorSet(setText), options.rekorKeys, {
        payload: layer.payload,
        signatureB64: clean,
        signerDer,
      });
    } catch (err) {
      fail(isAionError(err) ? err.code : 'ST011', (err as Error).message, STAGE.tlog);
    }
  }

  if (certificate && options.certificates) {
    try {
      const chain = parseCertificates(layer.annotations[CHAIN_ANNOTATION] ?? '');
      verifyChain(
        certificate,
        [...chain, ...(options.certificates.intermediates ?? [])],
        options.certificates.roots,
        signedAt ?? options.now ?? new Date(),
      );
      checkCertificateIdentity(certificate, options.certificates);
    } catch (err) {
      fail(isAionError(err) ? err.code : 'ST010', (err as Error).message, STAGE.certificate);
    }
  }

  let parsed: SimpleSigningPayload;
  try {
    parsed = parsePayload(layer.payload);
  } catch (err) {
    fail('ST005', (err as Error).message, STAGE.payload);
  }
  if (parsed.dockerManifestDigest !== options.artifactDigest)
    fail(
      'ST003',
      `signature is for ${parsed.dockerManifestDigest}, but the artifact is ${options.artifactDigest}`,
      STAGE.digest,
    );
  if (options.expectedIdentity !== undefined) {
    const why = identityMismatch(parsed.dockerReference, options.expectedIdentity);
    if (why) fail('ST004', why, STAGE.identity);
  }
  for (const [k, v] of Object.entries(options.annotations ?? {})) {
    const got = parsed.optional?.[k];
    if (got === undefined || String(got) !== v)
      fail(
        'ST015',
        `payload annotation ${k} is ${got === undefined ? 'missing' : JSON.stringify(got)}, expected "${v}"`,
        STAGE.claims,
      );
  }
  return { parsed, signer };
}

/** Verifies every simple-signing layer; other media types are not signatures and are ignored (as cosign). */
export function verifySignatureLayers(
  layers: SignatureLayer[],
  options: VerifyOptions,
  source = 'sig',
): VerificationReport {
  const report: VerificationReport = { verified: [], failures: [], considered: 0 };
  layers.forEach((layer, i) => {
    if (layer.mediaType !== MEDIA_TYPES.cosignSimpleSigning) return;
    report.considered++;
    try {
      const { parsed, signer } = checkLayer(layer, options);
      report.verified.push({ index: i + 1, source, payload: Buffer.from(layer.payload), parsed, signer });
    } catch (err) {
      const stage = (err as { stage?: number }).stage ?? STAGE.shape;
      const code = isAionError(err) ? err.code : 'ST005';
      report.failures.push({ index: i + 1, source, code, message: (err as Error).message, stage });
    }
  });
  return report;
}

/** Combines reports from several sources (classic tag, bundles). */
export function mergeReports(...reports: VerificationReport[]): VerificationReport {
  return {
    verified: reports.flatMap((r) => r.verified),
    failures: reports.flatMap((r) => r.failures),
    considered: reports.reduce((n, r) => n + r.considered, 0),
  };
}

/** The verified signatures, or the AionError that best explains why none verified. */
export function requireVerified(report: VerificationReport, subject: string): VerifiedSignature[] {
  if (report.verified.length > 0) return report.verified;
  if (report.considered === 0 || report.failures.length === 0)
    throw new AionError('ST001', `no signatures found for ${subject}`, {
      hint: 'sign it with `aionctl sign REF --key cosign.key`',
    });
  const best = [...report.failures].sort((a, b) => b.stage - a.stage)[0] as SignatureFailure;
  const all = report.failures.map((f) => `  ${f.source} #${f.index}: ${f.code} ${f.message}`).join('\n');
  throw new AionError(best.code, `no matching signatures for ${subject}: ${best.message}`, {
    hint:
      report.failures.length > 1
        ? `every signature failed:\n${all}`
        : best.code === 'ST004'
          ? 'signed under another name? pass --identity with the name it was signed for (REPOSITORY or REPOSITORY:TAG)'
          : undefined,
    details: { failures: report.failures.map(({ stage: _s, ...f }) => f) },
  });
}
