/**
 * `aionctl inspect`: what an artifact holds, read from any target (registry, store, oci: layout) without
 * downloading layers: its files (title, size, mode), annotations, signatures (cosign `.sig` tag and Sigstore bundle
 * referrers), SBOMs and every referrer. Only manifests are fetched, each digest-verified by the target.
 */
import { AionError, isAionError } from '../errors/index.js';
import { ANNOTATIONS } from './media-types.js';
import { referrersTagFor } from './names.js';
import { type Descriptor, MEDIA_TYPES, type ReadTarget } from './types.js';

/** Media types of SBOM documents (as `sbom attach` writes them, and syft / cosign's legacy ones). */
export const SBOM_ARTIFACT_TYPES: ReadonlySet<string> = new Set([
  'application/spdx+json',
  'application/vnd.cyclonedx+json',
  'text/spdx+json',
  'text/spdx',
  'application/vnd.syft+json',
]);

/** cosign's per-signature layer annotation. */
const COSIGN_SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';

export interface InspectedFile {
  path: string;
  size: number;
  /** `0644` / `0755` from dev.aionos.file.mode, else null (a foreign artifact). */
  mode: string | null;
  mediaType: string;
  digest: string;
}

export interface InspectedSignature {
  /** `cosign`: one layer of the `sha256-<hex>.sig` tag; `bundle`: a Sigstore bundle referrer. */
  kind: 'cosign' | 'bundle';
  /** The manifest holding it (the .sig manifest or the bundle referrer). */
  manifest: string;
  /** The .sig tag for cosign signatures. */
  tag?: string;
}

export interface InspectedSbom {
  /** The referrer manifest (or cosign's legacy `.sbom` tag manifest). */
  manifest: string;
  mediaType: string;
  digest: string;
  size: number;
}

export interface InspectResult {
  /** Where it was read (`127.0.0.1:5000/team/agent`, `store agent`, `oci:/path`). */
  target: string;
  reference: string;
  digest: string;
  mediaType: string;
  artifactType: string | null;
  /** Manifest + config + layers (each blob counted once). */
  size: number;
  annotations: Record<string, string>;
  config: Descriptor | null;
  files: InspectedFile[];
  /** For an image index: the manifests it lists. */
  manifests: Descriptor[];
  signatures: InspectedSignature[];
  sboms: InspectedSbom[];
  referrers: Descriptor[];
}

interface ParsedManifest {
  mediaType?: string;
  artifactType?: string;
  config?: Descriptor;
  layers?: Descriptor[];
  manifests?: Descriptor[];
  annotations?: Record<string, string>;
  subject?: Descriptor;
}

/** Reads and parses a manifest (verified by the target); RG011 when it is not a JSON object. */
export async function readManifest(
  target: ReadTarget,
  reference: string | Descriptor,
): Promise<{ descriptor: Descriptor; manifest: ParsedManifest }> {
  const { descriptor, bytes } = await target.fetchManifest(reference);
  let manifest: unknown;
  try {
    manifest = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    manifest = undefined;
  }
  if (typeof manifest !== 'object' || manifest === null || Array.isArray(manifest)) {
    throw new AionError('RG011', `manifest ${descriptor.digest} in ${target.name} is not a JSON object`);
  }
  return { descriptor, manifest: manifest as ParsedManifest };
}

/** Not found (RG003 manifest / RG004 repository): an absent attachment, not a failure. */
export function isNotFoundError(err: unknown): boolean {
  return isAionError(err) && (err.code === 'RG003' || err.code === 'RG004');
}

/** cosign's attachment tag for `digest`: `sha256-<hex>.sig` / `.att` / `.sbom`. */
export function cosignTag(digest: string, kind: 'sig' | 'att' | 'sbom'): string {
  return `${referrersTagFor(digest)}.${kind}`;
}

/** The manifest behind cosign's attachment tag, or undefined when there is none. */
export async function readCosignAttachment(
  target: ReadTarget,
  digest: string,
  kind: 'sig' | 'att' | 'sbom',
): Promise<{ descriptor: Descriptor; manifest: ParsedManifest } | undefined> {
  try {
    return await readManifest(target, cosignTag(digest, kind));
  } catch (err) {
    if (isNotFoundError(err)) return undefined;
    throw err;
  }
}

/** Referrers of `subject`, or [] when the target has none to report (a registry without the artifact). */
async function referrersOf(target: ReadTarget, subject: Descriptor): Promise<Descriptor[]> {
  try {
    return await target.referrers(subject);
  } catch (err) {
    if (isNotFoundError(err)) return [];
    throw err;
  }
}

export function isBundleType(artifactType: string | undefined): boolean {
  return artifactType !== undefined && artifactType.startsWith('application/vnd.dev.sigstore.bundle');
}

/** Signatures of `artifact`: each layer of its cosign `.sig` manifest, and each bundle referrer. */
export async function listSignatures(
  target: ReadTarget,
  artifact: Descriptor,
  referrers?: Descriptor[],
): Promise<InspectedSignature[]> {
  const out: InspectedSignature[] = [];
  const sig = await readCosignAttachment(target, artifact.digest, 'sig');
  if (sig) {
    const tag = cosignTag(artifact.digest, 'sig');
    for (const layer of sig.manifest.layers ?? []) {
      if (layer.mediaType === MEDIA_TYPES.cosignSimpleSigning || layer.annotations?.[COSIGN_SIGNATURE_ANNOTATION])
        out.push({ kind: 'cosign', manifest: sig.descriptor.digest, tag });
    }
  }
  for (const r of referrers ?? (await referrersOf(target, artifact)))
    if (isBundleType(r.artifactType)) out.push({ kind: 'bundle', manifest: r.digest });
  return out;
}

/** SBOM documents attached to `artifact`: SBOM referrers, then cosign's legacy `.sbom` tag. */
async function listSboms(target: ReadTarget, artifact: Descriptor, referrers: Descriptor[]): Promise<InspectedSbom[]> {
  const out: InspectedSbom[] = [];
  for (const r of referrers) {
    if (r.artifactType === undefined || !SBOM_ARTIFACT_TYPES.has(r.artifactType)) continue;
    const { manifest } = await readManifest(target, r);
    for (const l of manifest.layers ?? [])
      if (SBOM_ARTIFACT_TYPES.has(l.mediaType))
        out.push({ manifest: r.digest, mediaType: l.mediaType, digest: l.digest, size: l.size });
  }
  const legacy = await readCosignAttachment(target, artifact.digest, 'sbom');
  for (const l of legacy?.manifest.layers ?? [])
    if (SBOM_ARTIFACT_TYPES.has(l.mediaType))
      out.push({ manifest: legacy!.descriptor.digest, mediaType: l.mediaType, digest: l.digest, size: l.size });
  return out;
}

/** Total bytes of a manifest and the blobs it references, each digest counted once. */
export function artifactSize(descriptor: Descriptor, manifest: ParsedManifest): number {
  const seen = new Map<string, number>([[descriptor.digest, descriptor.size]]);
  for (const d of [
    ...(manifest.config ? [manifest.config] : []),
    ...(manifest.layers ?? []),
    ...(manifest.manifests ?? []),
  ])
    seen.set(d.digest, d.size);
  return [...seen.values()].reduce((a, b) => a + b, 0);
}

/** Everything `aionctl inspect` shows about `reference` (a tag or digest) in `target`. */
export async function inspectArtifact(target: ReadTarget, reference: string): Promise<InspectResult> {
  const { descriptor, manifest } = await readManifest(target, reference);
  const artifact: Descriptor = { mediaType: descriptor.mediaType, digest: descriptor.digest, size: descriptor.size };
  const referrers = await referrersOf(target, artifact);
  const files: InspectedFile[] = (manifest.layers ?? []).map((l) => ({
    path: l.annotations?.[ANNOTATIONS.title] ?? '',
    size: l.size,
    mode: l.annotations?.[ANNOTATIONS.fileMode] ?? null,
    mediaType: l.mediaType,
    digest: l.digest,
  }));
  return {
    target: target.name,
    reference,
    digest: descriptor.digest,
    mediaType: manifest.mediaType ?? descriptor.mediaType,
    artifactType: manifest.artifactType ?? manifest.config?.mediaType ?? null,
    size: artifactSize(descriptor, manifest),
    annotations: manifest.annotations ?? {},
    config: manifest.config ?? null,
    files,
    manifests: manifest.manifests ?? [],
    signatures: await listSignatures(target, artifact, referrers),
    sboms: await listSboms(target, artifact, referrers),
    referrers,
  };
}
