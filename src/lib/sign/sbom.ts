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
import { fetchSmallBlob, isNotFound, resolveArtifact } from './engine.js';

export const SBOM_MEDIA_TYPES = {
  spdx: 'application/spdx+json',
  cyclonedx: 'application/vnd.cyclonedx+json',
} as const;
const SBOM_TYPES = new Set<string>([...Object.values(SBOM_MEDIA_TYPES), 'text/spdx+json', 'application/vnd.syft+json']);
export const MAX_SBOM_BYTES = 32 * 1024 * 1024;

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

/** Layer descriptors of every SBOM attached to `artifact` (referrers first, then cosign's `.sbom` tag). */
export async function findSboms(target: ReadTarget, artifact: Descriptor): Promise<Descriptor[]> {
  const found: Descriptor[] = [];
  const manifests: Descriptor[] = [];
  try {
    for (const r of await target.referrers(artifact))
      if (r.artifactType && SBOM_TYPES.has(r.artifactType)) manifests.push(r);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  for (const m of manifests) {
    const parsed = JSON.parse(Buffer.from((await target.fetchManifest(m)).bytes).toString('utf8')) as {
      layers?: Descriptor[];
    };
    for (const l of parsed.layers ?? []) if (SBOM_TYPES.has(l.mediaType)) found.push(l);
  }
  try {
    const legacy = await target.fetchManifest(attachmentTag(artifact.digest, 'sbom'));
    const parsed = JSON.parse(Buffer.from(legacy.bytes).toString('utf8')) as { layers?: Descriptor[] };
    for (const l of parsed.layers ?? []) if (SBOM_TYPES.has(l.mediaType) || l.mediaType === 'text/spdx') found.push(l);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  return found;
}

export async function getSbom(
  target: ReadTarget,
  selector: string,
): Promise<{ digest: string; mediaType: string; document: Buffer }> {
  const artifact = await resolveArtifact(target, selector);
  const [first] = await findSboms(target, artifact);
  if (!first)
    throw new AionError('ST012', `no SBOM is attached to ${target.name}@${artifact.digest}`, {
      hint: 'attach one with `aionctl sbom attach REF sbom.spdx.json`',
    });
  return {
    digest: artifact.digest,
    mediaType: first.mediaType,
    document: await fetchSmallBlob(target, first, MAX_SBOM_BYTES, 'SBOM'),
  };
}

/**
 * A minimal SPDX 2.3 document for a packed artifact: one package (name and version from the manifest
 * annotations) and one file per titled layer with its sha256. Deterministic: `created` is the manifest's
 * org.opencontainers.image.created, else SOURCE_DATE_EPOCH, else the current time (never 1970).
 */
export async function generateSpdx(target: ReadTarget, selector: string, env: Env = process.env): Promise<Buffer> {
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
