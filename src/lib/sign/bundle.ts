/**
 * Sigstore bundles v0.3 as cosign v3 writes them for images: a DSSE envelope over an in-toto statement whose
 * subject is the image digest, signed with a plain key (hint = base64 sha256 of the SPKI DER), built with
 * @sigstore/sign and checked with @sigstore/verify.
 *
 * Offline with a key and no trusted root, transparency-log entries and timestamps in a bundle are not checked
 * (cosign's `--insecure-ignore-tlog`): only the signature, the key and the subject digest are. With
 * `--trusted-root`, tlog entries (inclusion proof, checkpoint, SET) and RFC 3161 timestamps are checked against the
 * logs and TSAs that root lists, and keyless certificates against its CAs.
 */
import { createHash, type KeyObject } from 'node:crypto';
import { createRequire } from 'node:module';
import type * as SigstoreBundle from '@sigstore/bundle';
import type { Bundle } from '@sigstore/bundle';
import type * as ProtobufSpecs from '@sigstore/protobuf-specs';
// @sigstore/sign and @sigstore/verify cost ~0.5 s to load (HTTP stacks for Fulcio/Rekor): loaded on first use.
import { AionError } from '../errors/index.js';
import type { Signer } from './key-source.js';
import { keyHint, publicKeyPem } from './keys.js';

// @sigstore/bundle and @sigstore/protobuf-specs are only needed when a bundle is built or read: loaded on first use,
// so commands that never meet a bundle (`verify` of classic signatures, `pull`, `run`) do not load them (issue 15).
const requireCjs = createRequire(import.meta.url);
let bundleModule: typeof SigstoreBundle | undefined;
let specsModule: typeof ProtobufSpecs | undefined;
const sigstoreBundle = (): typeof SigstoreBundle =>
  (bundleModule ??= requireCjs('@sigstore/bundle') as typeof SigstoreBundle);
const protobufSpecs = (): typeof ProtobufSpecs =>
  (specsModule ??= requireCjs('@sigstore/protobuf-specs') as typeof ProtobufSpecs);

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
export const COSIGN_SIGN_PREDICATE = 'https://sigstore.dev/cosign/sign/v1';
export const MAX_BUNDLE_BYTES = 1024 * 1024;

/**
 * cosign v3's statement for `cosign sign`: subject = the image digest, empty predicate. aionctl also names the
 * repository the signature is for in the subject's `name` (cosign ignores it): under the trust policy a bundle
 * counts only for that repository, as a classic signature's docker-reference does.
 */
export function signStatement(digest: string, annotations?: Record<string, string>, name?: string): Buffer {
  const hex = digest.replace(/^sha256:/, '');
  const subject: Record<string, unknown> = name ? { name, digest: { sha256: hex } } : { digest: { sha256: hex } };
  if (annotations && Object.keys(annotations).length > 0) subject.annotations = annotations;
  return Buffer.from(
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [subject],
      predicateType: COSIGN_SIGN_PREDICATE,
      predicate: {},
    }),
  );
}

/** A key-signed DSSE bundle (v0.3, no tlog entries) over `statement`, as JSON bytes. */
export async function buildKeyBundle(signer: Signer, statement: Buffer): Promise<Buffer> {
  const { DSSEBundleBuilder } = await import('@sigstore/sign');
  const builder = new DSSEBundleBuilder({
    signer: {
      sign: async (data: Buffer) => ({
        signature: await signer.sign(data),
        key: { $case: 'publicKey', publicKey: publicKeyPem(signer.publicKey), hint: keyHint(signer.publicKey) },
      }),
    },
    witnesses: [],
  });
  const bundle = await builder.create({ data: statement, type: IN_TOTO_PAYLOAD_TYPE });
  return Buffer.from(JSON.stringify(sigstoreBundle().bundleToJSON(bundle)));
}

export interface BundleVerifyOptions {
  keys: KeyObject[];
  /** Image digest the statement subject must name (DSSE bundles). */
  artifactDigest?: string;
  /** The signed file (message-signature bundles). */
  artifact?: Buffer;
  /** A Sigstore trusted_root.json (parsed) for full offline verification incl. keyless. */
  trustedRoot?: unknown;
  /** Keyless: required SAN and OIDC issuer. */
  certificateIdentity?: string;
  certificateOidcIssuer?: string;
  /**
   * Under the trust policy: the repository the statement subject must name. A bundle naming another one is ST004;
   * one naming none is ST021 unless `allowUnbound`.
   */
  binding?: { name: string; allowUnbound: boolean };
}

export function parseBundle(bytes: Uint8Array): Bundle {
  if (bytes.length > MAX_BUNDLE_BYTES)
    throw new AionError('ST005', `bundle is ${bytes.length} bytes (limit ${MAX_BUNDLE_BYTES})`);
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw new AionError('ST005', 'bundle is not JSON', { cause: err });
  }
  const mediaType = (json as { mediaType?: unknown })?.mediaType;
  if (typeof mediaType !== 'string' || !mediaType.startsWith('application/vnd.dev.sigstore.bundle'))
    throw new AionError('ST006', `not a Sigstore bundle (mediaType ${String(mediaType)})`);
  try {
    return sigstoreBundle().bundleFromJSON(json);
  } catch (err) {
    throw new AionError('ST005', `malformed Sigstore bundle: ${(err as Error).message}`, { cause: err });
  }
}

interface StatementSubject {
  name?: unknown;
  digest?: { sha256?: string };
}

function statementSubjects(bundle: Bundle): StatementSubject[] {
  if (bundle.content.$case !== 'dsseEnvelope') return [];
  const env = bundle.content.dsseEnvelope;
  if (env.payloadType !== IN_TOTO_PAYLOAD_TYPE)
    throw new AionError('ST005', `bundle payload type ${env.payloadType} is not in-toto`);
  let st: { subject?: StatementSubject[] };
  try {
    st = JSON.parse(Buffer.from(env.payload).toString('utf8'));
  } catch (err) {
    throw new AionError('ST005', 'bundle statement is not JSON', { cause: err });
  }
  if (!Array.isArray(st.subject)) throw new AionError('ST005', 'bundle statement has no subject');
  return st.subject.filter((s) => s && typeof s === 'object');
}

function statementDigests(bundle: Bundle): string[] {
  return statementSubjects(bundle).map((s) => `sha256:${s?.digest?.sha256 ?? ''}`);
}

/** The identity-binding check of a verified bundle (see BundleVerifyOptions.binding). */
function checkBinding(bundle: Bundle, options: BundleVerifyOptions): void {
  const binding = options.binding;
  if (!binding) return;
  const subjects = statementSubjects(bundle).filter(
    (s) => !options.artifactDigest || `sha256:${s.digest?.sha256 ?? ''}` === options.artifactDigest,
  );
  const names = subjects.map((s) => s.name).filter((n): n is string => typeof n === 'string' && n !== '');
  if (names.length === 0) {
    if (binding.allowUnbound) return;
    throw Object.assign(
      new AionError('ST021', `the bundle does not name the repository it was signed for (${binding.name} expected)`, {
        hint: 'sign with aionctl (it names the repository), or set allowUnboundBundles: true on the trust rule',
      }),
      { stage: 7 },
    );
  }
  const ok = names.some((n) => n === binding.name || n.startsWith(`${binding.name}:`));
  if (!ok)
    throw Object.assign(new AionError('ST004', `the bundle was signed for ${names.join(', ')}, not ${binding.name}`), {
      stage: 7,
    });
}

/** The payload a verified bundle signed (in-toto statement, or the message digest), for printing. */
export function bundlePayload(bundle: Bundle): Buffer {
  if (bundle.content.$case === 'dsseEnvelope') return Buffer.from(bundle.content.dsseEnvelope.payload);
  return Buffer.from(bundle.content.messageSignature.messageDigest?.digest ?? []);
}

/**
 * Verifies one bundle: signature with one of `keys` (or a certificate under `trustedRoot`), and the subject
 * digest (DSSE) or the artifact bytes (message signature). Returns the signer's description. Throws AionError
 * with ST002 (signature), ST003 (digest), ST010/ST011 (certificate / tlog) or ST005/ST006.
 */
export async function verifyBundle(bundle: Bundle, options: BundleVerifyOptions): Promise<string> {
  const { Verifier, toSignedEntity, toTrustMaterial } = await import('@sigstore/verify');
  const isKeyBundle = bundle.verificationMaterial.content.$case === 'publicKey';
  if (isKeyBundle && options.keys.length === 0)
    throw new AionError('ST002', 'the bundle is signed with a key and no key was given');
  if (!isKeyBundle && options.trustedRoot === undefined)
    throw new AionError('ST010', 'a keyless bundle needs --trusted-root (offline) to verify its certificate');
  if (bundle.content.$case === 'messageSignature' && !options.artifact)
    throw new AionError('ST006', 'a message-signature bundle signs a file, not an image');
  const subjects = statementDigests(bundle);
  if (bundle.content.$case === 'dsseEnvelope' && options.artifactDigest && !subjects.includes(options.artifactDigest))
    throw Object.assign(
      new AionError(
        'ST003',
        `bundle statement names ${subjects.join(', ') || 'no digest'}, not ${options.artifactDigest}`,
      ),
      { stage: 6 },
    );
  if (bundle.content.$case === 'messageSignature' && options.artifact) {
    const want = createHash('sha256').update(options.artifact).digest();
    const got = Buffer.from(bundle.content.messageSignature.messageDigest?.digest ?? []);
    if (!want.equals(got))
      throw Object.assign(new AionError('ST003', "bundle message digest is not the artifact's"), { stage: 6 });
  }
  const root = protobufSpecs().TrustedRoot.fromJSON(
    options.trustedRoot ?? {
      mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
      tlogs: [],
      certificateAuthorities: [],
      ctlogs: [],
      timestampAuthorities: [],
    },
  );
  // Check what the trusted root can vouch for; material it holds no roots for is dropped (key bundles without a
  // root: everything but the signature, like cosign --insecure-ignore-tlog). A keyless bundle still needs a
  // timestamp and an SCT (thresholds below), so dropping cannot make it pass.
  const effective: Bundle = {
    ...bundle,
    verificationMaterial: {
      ...bundle.verificationMaterial,
      tlogEntries: root.tlogs.length > 0 ? bundle.verificationMaterial.tlogEntries : [],
      timestampVerificationData:
        root.timestampAuthorities.length > 0 ? bundle.verificationMaterial.timestampVerificationData : undefined,
    },
  };
  let lastError: unknown;
  const candidates: Array<KeyObject | undefined> = isKeyBundle ? options.keys : [undefined];
  for (const key of candidates) {
    try {
      const material = toTrustMaterial(root, key ? () => ({ publicKey: key, validFor: () => true }) : undefined);
      const thresholds = {
        tlogThreshold: effective.verificationMaterial.tlogEntries.length > 0 ? 1 : 0,
        ctlogThreshold: isKeyBundle ? 0 : 1,
        timestampThreshold: isKeyBundle ? 0 : 1,
      };
      const policy =
        !isKeyBundle && (options.certificateIdentity || options.certificateOidcIssuer)
          ? {
              subjectAlternativeName: options.certificateIdentity,
              extensions: options.certificateOidcIssuer ? { issuer: options.certificateOidcIssuer } : undefined,
            }
          : undefined;
      const signer = new Verifier(material, thresholds).verify(toSignedEntity(effective, options.artifact), policy);
      checkBinding(bundle, options);
      return signer.identity?.subjectAlternativeName ?? (key ? keyHint(key) : 'certificate');
    } catch (err) {
      if (err instanceof AionError) throw err;
      lastError = err;
    }
  }
  const code = (lastError as { code?: string })?.code ?? '';
  const message = (lastError as Error)?.message ?? 'bundle does not verify';
  if (/CERTIFICATE|POLICY|UNTRUSTED_SIGNER/.test(code)) throw new AionError('ST010', message, { cause: lastError });
  if (/TLOG|TIMESTAMP/.test(code)) throw new AionError('ST011', message, { cause: lastError });
  throw new AionError('ST002', `bundle signature does not verify: ${message}`, { cause: lastError });
}
