/**
 * Signing and verifying artifacts wherever they live, over the shared Target interface (registry repository,
 * local store, OCI layout). Classic signatures go to the `sha256-<hex>.sig` tag (same repository, or a separate
 * signature target for $COSIGN_REPOSITORY); bundles go in as OCI referrers (the target keeps the referrers tag
 * schema where the registry has no referrers API).
 */
import type { KeyObject } from 'node:crypto';
import type { Readable } from 'node:stream';
import { AionError, isAionError, isNotFoundError } from '../errors/index.js';
import { type Descriptor, EMPTY_DESCRIPTOR, MEDIA_TYPES, type ReadTarget, type Target } from '../oci/types.js';
import {
  type SignatureLayer,
  SIGNATURE_ANNOTATION,
  attachmentTag,
  buildSignatureManifest,
  isDuplicateSignature,
  manifestDigest,
  parseSignatureManifest,
  sha256Digest,
} from './attachment.js';
import { buildKeyBundle, bundlePayload, MAX_BUNDLE_BYTES, parseBundle, signStatement, verifyBundle } from './bundle.js';
import type { Signer } from './key-source.js';
import { verifyBytes } from './keys.js';
import { buildPayload, MAX_PAYLOAD_BYTES } from './payload.js';
import {
  type VerificationReport,
  type VerifyOptions,
  mergeReports,
  requireVerified,
  verifySignatureLayers,
} from './verify-classic.js';

/** A catalogued not-found answer of the registry client or a layout/the store: "no signature yet", not a failure. */
export function isNotFound(err: unknown): boolean {
  return isNotFoundError(err);
}

async function readAll(stream: Readable, limit: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      stream.destroy();
      throw new AionError('ST005', `${what} is larger than ${limit} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export async function fetchSmallBlob(target: ReadTarget, d: Descriptor, limit: number, what: string): Promise<Buffer> {
  if (d.size > limit) throw new AionError('ST005', `${what} is ${d.size} bytes (limit ${limit})`);
  return readAll(await target.fetchBlob(d), limit, what);
}

/** Resolves a tag or digest to the artifact's descriptor, checking the digest over the manifest bytes. */
export async function resolveArtifact(target: ReadTarget, selector: string): Promise<Descriptor> {
  const fetched = await target.fetchManifest(selector);
  const digest = manifestDigest(fetched.bytes);
  if (digest !== fetched.descriptor.digest)
    throw new AionError('ST003', `${target.name}: manifest bytes hash to ${digest}, not ${fetched.descriptor.digest}`);
  return { ...fetched.descriptor, size: fetched.bytes.length };
}

/** The classic signature layers stored for `digest` (empty when there is no `.sig` tag). */
export async function readClassicSignatures(sigTarget: ReadTarget, digest: string): Promise<SignatureLayer[]> {
  let manifestBytes: Uint8Array;
  try {
    manifestBytes = (await sigTarget.fetchManifest(attachmentTag(digest))).bytes;
  } catch (err) {
    if (isNotFound(err)) return [];
    throw err;
  }
  const layers: SignatureLayer[] = [];
  for (const d of parseSignatureManifest(manifestBytes)) {
    // Only simple-signing layers are signatures; others (e.g. text/plain) are kept by descriptor, blob unread.
    if (d.mediaType !== MEDIA_TYPES.cosignSimpleSigning) {
      layers.push({ mediaType: d.mediaType, payload: Buffer.alloc(0), annotations: d.annotations ?? {}, foreign: d });
      continue;
    }
    const payload = await fetchSmallBlob(sigTarget, d, MAX_PAYLOAD_BYTES, 'signature payload');
    layers.push({ mediaType: d.mediaType, payload, annotations: d.annotations ?? {} });
  }
  return layers;
}

export interface SignOptions {
  signer: Signer;
  /** docker-reference written into the payload (the repository, without tag). */
  identity: string;
  annotations?: Record<string, string>;
  /** Write the classic `.sig` attachment (default true). */
  classic?: boolean;
  /** Also write a Sigstore bundle referrer. */
  bundle?: boolean;
  /** Where `.sig` goes ($COSIGN_REPOSITORY); default the artifact's own target. */
  signatureTarget?: Target;
}

export interface SignResult {
  digest: string;
  identity: string;
  signatureTag?: string;
  signatureManifest?: string;
  /** false when an identical signature was already there. */
  added: boolean;
  signatures: number;
  bundleManifest?: string;
  payload: string;
}

async function pushBytes(target: Target, d: Descriptor, bytes: Uint8Array): Promise<void> {
  if (!(await target.exists(d))) await target.pushBlob(d, bytes);
}

/** Signs the artifact `selector` names. Never signs a tag: the tag is resolved to a digest first. */
export async function signArtifact(target: Target, selector: string, options: SignOptions): Promise<SignResult> {
  const artifact = await resolveArtifact(target, selector);
  const payload = buildPayload(options.identity, artifact.digest, options.annotations);
  const result: SignResult = {
    digest: artifact.digest,
    identity: options.identity,
    added: false,
    signatures: 0,
    payload: payload.toString('utf8'),
  };
  if (options.classic !== false) {
    const sigTarget = options.signatureTarget ?? target;
    const signature = (await options.signer.sign(payload)).toString('base64');
    const candidate: SignatureLayer = {
      mediaType: MEDIA_TYPES.cosignSimpleSigning,
      payload,
      annotations: { [SIGNATURE_ANNOTATION]: signature },
    };
    const existing = await readClassicSignatures(sigTarget, artifact.digest);
    const verifies = (l: SignatureLayer) =>
      verifyBytes(
        options.signer.publicKey,
        l.payload,
        Buffer.from(l.annotations[SIGNATURE_ANNOTATION] ?? '', 'base64'),
      );
    const duplicate = existing.some((l) => isDuplicateSignature(l, candidate, verifies));
    const tag = attachmentTag(artifact.digest);
    result.signatureTag = tag;
    if (duplicate) {
      result.signatures = existing.length;
      result.signatureManifest = (await sigTarget.resolve(tag)).digest;
    } else {
      const layers = [...existing, candidate];
      // Non-signature layers of a foreign .sig manifest keep their blobs: they are already in the target.
      const built = buildSignatureManifest(layers);
      await pushBytes(sigTarget, built.config.descriptor, built.config.bytes);
      for (const [i, l] of built.layers.entries())
        if (!layers[i]?.foreign) await pushBytes(sigTarget, l.descriptor, l.bytes);
      await sigTarget.pushManifest(built.descriptor, built.manifest, tag);
      result.added = true;
      result.signatures = layers.length;
      result.signatureManifest = built.descriptor.digest;
    }
  }
  if (options.bundle) {
    const bundleBytes = await buildKeyBundle(
      options.signer,
      signStatement(artifact.digest, options.annotations, options.identity),
    );
    result.bundleManifest = await pushBundleReferrer(target, artifact, bundleBytes);
    result.added = true;
  }
  return result;
}

/** Pushes a bundle as cosign v3 does: empty config, one bundle layer, `subject` = the artifact. */
export async function pushBundleReferrer(target: Target, subject: Descriptor, bundleBytes: Buffer): Promise<string> {
  const layer: Descriptor = {
    mediaType: MEDIA_TYPES.sigstoreBundle,
    size: bundleBytes.length,
    digest: sha256Digest(bundleBytes),
  };
  await pushBytes(target, EMPTY_DESCRIPTOR, Buffer.from('{}'));
  await pushBytes(target, layer, bundleBytes);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.imageManifest,
      artifactType: MEDIA_TYPES.sigstoreBundle,
      config: { ...EMPTY_DESCRIPTOR },
      layers: [layer],
      subject: { mediaType: subject.mediaType, size: subject.size, digest: subject.digest },
      annotations: {
        'dev.sigstore.bundle.content': 'dsse-envelope',
        'dev.sigstore.bundle.predicateType': 'https://sigstore.dev/cosign/sign/v1',
        'org.opencontainers.image.created': new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      },
    }),
  );
  const descriptor: Descriptor = {
    mediaType: MEDIA_TYPES.imageManifest,
    size: manifest.length,
    digest: sha256Digest(manifest),
    artifactType: MEDIA_TYPES.sigstoreBundle,
  };
  await target.pushManifest(descriptor, manifest);
  return descriptor.digest;
}

/** Verifies the bundle referrers of `artifact`; returns a report like the classic verifier's. */
async function verifyBundleReferrers(
  target: ReadTarget,
  artifact: Descriptor,
  options: ArtifactVerifyOptions,
): Promise<VerificationReport> {
  const report: VerificationReport = { verified: [], failures: [], considered: 0 };
  let referrers: Descriptor[];
  try {
    referrers = await target.referrers(artifact, MEDIA_TYPES.sigstoreBundle);
  } catch (err) {
    if (isNotFound(err)) return report;
    throw err;
  }
  let index = 0;
  for (const r of referrers) {
    if (r.artifactType !== undefined && r.artifactType !== MEDIA_TYPES.sigstoreBundle) continue;
    index++;
    try {
      const manifest = JSON.parse(Buffer.from((await target.fetchManifest(r)).bytes).toString('utf8')) as {
        layers?: Descriptor[];
      };
      const layers = manifest.layers ?? [];
      if (layers.length !== 1 || !layers[0]?.mediaType.startsWith('application/vnd.dev.sigstore.bundle')) continue;
      report.considered++;
      const bundle = parseBundle(await fetchSmallBlob(target, layers[0], MAX_BUNDLE_BYTES, 'bundle'));
      const signer = await verifyBundle(bundle, {
        keys: options.keys,
        artifactDigest: artifact.digest,
        trustedRoot: options.trustedRoot,
        certificateIdentity: options.certificateIdentity,
        certificateOidcIssuer: options.certificateOidcIssuer,
        binding: options.bundleBinding,
      });
      const payload = bundlePayload(bundle);
      report.verified.push({
        index,
        source: `bundle ${r.digest}`,
        payload,
        parsed: { dockerReference: '', dockerManifestDigest: artifact.digest, optional: null },
        signer,
      });
    } catch (err) {
      if (!isAionError(err)) throw err;
      const stage = (err as { stage?: number }).stage ?? (err.code === 'ST002' ? 2 : err.code === 'ST005' ? 1 : 3);
      report.considered = Math.max(report.considered, index);
      report.failures.push({ index, source: `bundle ${r.digest}`, code: err.code, message: err.message, stage });
    }
  }
  return report;
}

export interface ArtifactVerifyOptions extends Omit<VerifyOptions, 'artifactDigest'> {
  /** Where the `.sig` tag lives ($COSIGN_REPOSITORY); default the artifact's own target. */
  signatureTarget?: ReadTarget;
  trustedRoot?: unknown;
  certificateIdentity?: string;
  certificateOidcIssuer?: string;
  /** Require bundles to name this repository (the trust policy does; `verify --key` does not, like cosign). */
  bundleBinding?: { name: string; allowUnbound: boolean };
}

export interface ArtifactVerification {
  digest: string;
  descriptor: Descriptor;
  verified: ReturnType<typeof requireVerified>;
  report: VerificationReport;
}

/** Finds every signature of the artifact (classic `.sig`, bundle referrers) and requires one to verify. */
export async function verifyArtifact(
  target: ReadTarget,
  selector: string,
  options: ArtifactVerifyOptions,
): Promise<ArtifactVerification> {
  const artifact = await resolveArtifact(target, selector);
  const classic = verifySignatureLayers(
    await readClassicSignatures(options.signatureTarget ?? target, artifact.digest),
    { ...options, artifactDigest: artifact.digest },
  );
  const bundles = await verifyBundleReferrers(target, artifact, options);
  const report = mergeReports(classic, bundles);
  const verified = requireVerified(report, `${target.name}@${artifact.digest}`);
  return { digest: artifact.digest, descriptor: artifact, verified, report };
}

export type { KeyObject };
