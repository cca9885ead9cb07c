/**
 * SBOMs attached to artifacts: an SPDX or CycloneDX JSON document pushed as an OCI referrer (empty config, one
 * layer, `subject` = the artifact, `artifactType` = the document's media type), found again through the referrers
 * API / tag schema, and cosign's legacy `sha256-<hex>.sbom` tag when present.
 */
import { createHash } from 'node:crypto';
import { type Env, sourceDateEpoch } from '../env/index.js';
import { AionError } from '../errors/index.js';
import { type Descriptor, EMPTY_DESCRIPTOR, MEDIA_TYPES, type ReadTarget, type Target } from '../oci/types.js';
import { attachmentTag, sha256Digest } from './attachment.js';
import { fetchSmallBlob, isNotFound, resolveArtifact, verifyArtifact } from './engine.js';
import type { KeyObject } from './engine.js';

export const SBOM_MEDIA_TYPES = {
  spdx: 'application/spdx+json',
  cyclonedx: 'application/vnd.cyclonedx+json',
} as const;
const SBOM_TYPES = new Set<string>([...Object.values(SBOM_MEDIA_TYPES), 'text/spdx+json', 'application/vnd.syft+json']);
export const MAX_SBOM_BYTES = 32 * 1024 * 1024;
/**
 * Referrers `pull` copies with an artifact: Sigstore bundles and SPDX/CycloneDX SBOMs, each within this many
 * bytes of blobs. Anything else anyone attached stays in the registry.
 */
export const PULL_REFERRER_POLICY = {
  artifactTypes: new Set<string>([MEDIA_TYPES.sigstoreBundle, ...SBOM_TYPES]),
  maxBytes: MAX_SBOM_BYTES + 64 * 1024,
} as const;
/** SBOM manifests looked at per artifact: anyone can attach referrers, so a flood stops here. */
export const MAX_SBOM_CANDIDATES = 16;
/** An SBOM referrer manifest is tiny (one layer); anything bigger is not looked at. */
const MAX_SBOM_MANIFEST_BYTES = 64 * 1024;

/** The media type of an SBOM document, or ST014 when it is neither SPDX nor CycloneDX JSON. */
export function sbomMediaType(bytes: Uint8Array): string {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new AionError('ST014', 'the SBOM is not JSON', {
      cause: err,
      hint: 'attach an SPDX or CycloneDX JSON document',
    });
  }
  if (doc && typeof doc === 'object' && typeof doc.spdxVersion === 'string' && doc.spdxVersion.startsWith('SPDX-'))
    return SBOM_MEDIA_TYPES.spdx;
  if (doc && typeof doc === 'object' && doc.bomFormat === 'CycloneDX') return SBOM_MEDIA_TYPES.cyclonedx;
  throw new AionError('ST014', 'the document is neither SPDX JSON (spdxVersion) nor CycloneDX JSON (bomFormat)');
}

export interface AttachedSbom {
  digest: string;
  manifest: string;
  mediaType: string;
}

export async function attachSbom(target: Target, selector: string, document: Buffer): Promise<AttachedSbom> {
  if (document.length > MAX_SBOM_BYTES) throw new AionError('ST014', `the SBOM is larger than ${MAX_SBOM_BYTES} bytes`);
  const mediaType = sbomMediaType(document);
  const artifact = await resolveArtifact(target, selector);
  const layer: Descriptor = { mediaType, size: document.length, digest: sha256Digest(document) };
  if (!(await target.exists(EMPTY_DESCRIPTOR))) await target.pushBlob(EMPTY_DESCRIPTOR, Buffer.from('{}'));
  if (!(await target.exists(layer))) await target.pushBlob(layer, document);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.imageManifest,
      artifactType: mediaType,
      config: { ...EMPTY_DESCRIPTOR },
      layers: [layer],
      subject: { mediaType: artifact.mediaType, size: artifact.size, digest: artifact.digest },
    }),
  );
  const d: Descriptor = {
    mediaType: MEDIA_TYPES.imageManifest,
    size: manifest.length,
    digest: sha256Digest(manifest),
    artifactType: mediaType,
  };
  await target.pushManifest(d, manifest);
  return { digest: artifact.digest, manifest: d.digest, mediaType };
}

/** An SBOM manifest attached to an artifact: a referrer of an SBOM artifact type, or cosign's legacy `.sbom` tag. */
export interface SbomCandidate {
  /** The SBOM manifest (what a signature of the SBOM signs). */
  manifest: Descriptor;
  source: string;
}

/** SBOM manifests attached to `artifact` (referrers of known SBOM types first, then cosign's `.sbom` tag), capped. */
export async function findSbomManifests(target: ReadTarget, artifact: Descriptor): Promise<SbomCandidate[]> {
  const out: SbomCandidate[] = [];
  try {
    for (const r of await target.referrers(artifact))
      if (r.artifactType && SBOM_TYPES.has(r.artifactType) && r.size <= MAX_SBOM_MANIFEST_BYTES)
        out.push({ manifest: r, source: `referrer ${r.digest}` });
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  try {
    const legacy = await target.fetchManifest(attachmentTag(artifact.digest, 'sbom'));
    if (legacy.bytes.length <= MAX_SBOM_MANIFEST_BYTES)
      out.push({ manifest: legacy.descriptor, source: `tag ${attachmentTag(artifact.digest, 'sbom')}` });
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  return out.slice(0, MAX_SBOM_CANDIDATES);
}

/** The SBOM document of one candidate, within the size caps and parsed (ST024 when it is not SPDX/CycloneDX). */
async function readSbomDocument(
  target: ReadTarget,
  candidate: SbomCandidate,
): Promise<{ mediaType: string; document: Buffer }> {
  const fetched = await target.fetchManifest(candidate.manifest.digest);
  if (fetched.bytes.length > MAX_SBOM_MANIFEST_BYTES)
    throw new AionError('ST024', `${candidate.source}: SBOM manifest is larger than ${MAX_SBOM_MANIFEST_BYTES} bytes`);
  let layers: Descriptor[];
  try {
    layers = (JSON.parse(Buffer.from(fetched.bytes).toString('utf8')) as { layers?: Descriptor[] }).layers ?? [];
  } catch (err) {
    throw new AionError('ST024', `${candidate.source}: SBOM manifest is not JSON`, { cause: err });
  }
  const layer = Array.isArray(layers)
    ? layers.find(
        (l) => l && typeof l.mediaType === 'string' && (SBOM_TYPES.has(l.mediaType) || l.mediaType === 'text/spdx'),
      )
    : undefined;
  if (!layer || typeof layer.size !== 'number')
    throw new AionError('ST024', `${candidate.source}: no SBOM layer in the manifest`);
  if (layer.size > MAX_SBOM_BYTES)
    throw new AionError('ST024', `${candidate.source}: SBOM is ${layer.size} bytes (limit ${MAX_SBOM_BYTES})`);
  const document = await fetchSmallBlob(target, layer, MAX_SBOM_BYTES, 'SBOM');
  try {
    return { mediaType: sbomMediaType(document), document };
  } catch (err) {
    throw new AionError('ST024', `${candidate.source}: ${(err as Error).message}`, {
      cause: err,
      hint: 'the attached document is not an SPDX or CycloneDX JSON SBOM',
    });
  }
}

/** Layer descriptors of every SBOM attached to `artifact` (unverified; kept for listing). */
export async function findSboms(target: ReadTarget, artifact: Descriptor): Promise<Descriptor[]> {
  return (await findSbomManifests(target, artifact)).map((c) => c.manifest);
}

export interface SbomVerification {
  verified: Array<{ manifest: string; mediaType: string; signer: string }>;
  /** Why each other candidate did not count. */
  problems: string[];
}

/**
 * The SBOMs of `artifact` that count under the trust policy: the SBOM manifest carries a signature by one of
 * `keys` for `identity` (classic `.sig` on the SBOM manifest's digest, as `sbom attach --key` or `cosign sign`
 * writes it) and the document parses as SPDX or CycloneDX JSON within the size caps.
 */
export async function verifiedSboms(
  target: ReadTarget,
  artifact: Descriptor,
  options: { keys: KeyObject[]; identity: string; signatureTarget?: ReadTarget },
): Promise<SbomVerification> {
  const result: SbomVerification = { verified: [], problems: [] };
  for (const candidate of await findSbomManifests(target, artifact)) {
    try {
      const signed = await verifyArtifact(target, candidate.manifest.digest, {
        keys: options.keys,
        expectedIdentity: options.identity,
        signatureTarget: options.signatureTarget,
        bundleBinding: { name: options.identity, allowUnbound: false },
      });
      const { mediaType } = await readSbomDocument(target, candidate);
      result.verified.push({
        manifest: candidate.manifest.digest,
        mediaType,
        signer: signed.verified[0]?.signer ?? '',
      });
      return result;
    } catch (err) {
      if (!(err instanceof AionError)) throw err;
      result.problems.push(`${candidate.source}: ${err.code} ${err.message}`);
    }
  }
  return result;
}

/** The first attached SBOM that parses as SPDX/CycloneDX (ST012 when none is attached, ST024 when none parses). */
export async function getSbom(
  target: ReadTarget,
  selector: string,
): Promise<{ digest: string; mediaType: string; document: Buffer }> {
  const artifact = await resolveArtifact(target, selector);
  const candidates = await findSbomManifests(target, artifact);
  if (candidates.length === 0)
    throw new AionError('ST012', `no SBOM is attached to ${target.name}@${artifact.digest}`, {
      hint: 'attach one with `aionctl sbom attach REF sbom.spdx.json`',
    });
  let first: AionError | undefined;
  for (const candidate of candidates) {
    try {
      return { digest: artifact.digest, ...(await readSbomDocument(target, candidate)) };
    } catch (err) {
      if (!(err instanceof AionError)) throw err;
      first ??= err;
    }
  }
  throw first as AionError;
}

/**
 * A minimal SPDX 2.3 document for a packed artifact: one package (name and version from the manifest
 * annotations) and one file per titled layer with its sha256. Deterministic: `created` is the manifest's
 * org.opencontainers.image.created, else SOURCE_DATE_EPOCH, else the current time (never 1970).
 */
export async function generateSpdx(target: ReadTarget, selector: string, env: Env): Promise<Buffer> {
  const artifact = await resolveArtifact(target, selector);
  const manifest = JSON.parse(Buffer.from((await target.fetchManifest(artifact)).bytes).toString('utf8')) as {
    layers?: Descriptor[];
    annotations?: Record<string, string>;
  };
  const a = manifest.annotations ?? {};
  const name = a['dev.aionos.package.name'] ?? a['org.opencontainers.image.title'] ?? target.name;
  const version = a['dev.aionos.package.version'] ?? a['org.opencontainers.image.version'];
  const created =
    a['org.opencontainers.image.created'] ??
    (sourceDateEpoch(env) ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const files = (manifest.layers ?? [])
    .filter((l) => typeof l.annotations?.['org.opencontainers.image.title'] === 'string')
    .map((l, i) => ({
      fileName: `./${l.annotations?.['org.opencontainers.image.title']}`,
      SPDXID: `SPDXRef-File-${i + 1}`,
      checksums: [{ algorithm: 'SHA256', checksumValue: l.digest.replace(/^sha256:/, '') }],
      copyrightText: 'NOASSERTION',
    }));
  const doc = {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: version ? `${name}-${version}` : name,
    documentNamespace: `https://aionos.dev/spdx/${artifact.digest.replace(':', '/')}`,
    creationInfo: { created, creators: ['Tool: aionctl'] },
    packages: [
      {
        name,
        SPDXID: 'SPDXRef-Package',
        ...(version ? { versionInfo: version } : {}),
        downloadLocation: 'NOASSERTION',
        filesAnalyzed: true,
        packageVerificationCode: {
          // SPDX 2.3 §7.9: sha1 over the sorted file sha1s; we have sha256 digests, so the field names them.
          packageVerificationCodeValue: createHash('sha1')
            .update(
              files
                .map((f) => f.checksums[0]?.checksumValue ?? '')
                .sort()
                .join(''),
            )
            .digest('hex'),
        },
        checksums: [{ algorithm: 'SHA256', checksumValue: artifact.digest.replace(/^sha256:/, '') }],
      },
    ],
    files,
    relationships: [
      { spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: 'SPDXRef-Package' },
      ...files.map((f) => ({
        spdxElementId: 'SPDXRef-Package',
        relationshipType: 'CONTAINS',
        relatedSpdxElement: f.SPDXID,
      })),
    ],
  };
  return Buffer.from(`${JSON.stringify(doc, null, 2)}\n`);
}
