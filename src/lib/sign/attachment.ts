/**
 * The classic cosign attachment: tag `sha256-<hex>.sig` holding an OCI image manifest whose config is
 * go-containerregistry's empty image plus one diff_id per layer, and one `simplesigning` layer per signature
 * (blob = payload, annotation = base64 DER signature). Bytes follow ggcr's struct field order so the manifests
 * cosign and aionctl write for the same signatures are identical.
 */
import { createHash } from 'node:crypto';
import { AionError } from '../errors/index.js';
import { type Descriptor, MEDIA_TYPES } from '../oci/types.js';

export const SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';
export const CERTIFICATE_ANNOTATION = 'dev.sigstore.cosign/certificate';
export const CHAIN_ANNOTATION = 'dev.sigstore.cosign/chain';
export const REKOR_BUNDLE_ANNOTATION = 'dev.sigstore.cosign/bundle';
export const OCI_CONFIG_MEDIA_TYPE = 'application/vnd.oci.image.config.v1+json';
/** cosign's cap on signatures per image (pkg/oci/mutate/signatures.go). */
export const MAX_SIGNATURE_LAYERS = 1000;
/** A signature manifest bigger than this is refused before parsing. */
export const MAX_SIGNATURE_MANIFEST_BYTES = 4 * 1024 * 1024;

export type AttachmentKind = 'sig' | 'att' | 'sbom';

export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** `sha256:abc…` → `sha256-abc….sig` (cosign's `normalize`). */
export function attachmentTag(digest: string, kind: AttachmentKind = 'sig'): string {
  const m = /^(sha256|sha512):([a-f0-9]{64,128})$/.exec(digest);
  if (!m) throw new AionError('ST006', `cannot name a signature for digest "${digest}"`);
  return `${m[1]}-${m[2]}.${kind}`;
}

/** One signature as a layer: the payload bytes and the layer annotations. */
export interface SignatureLayer {
  mediaType: string;
  payload: Uint8Array;
  annotations: Record<string, string>;
  /** A non-signature layer read from a foreign `.sig` manifest: kept by descriptor, its blob is not fetched. */
  foreign?: Descriptor;
}

function sortedAnnotations(a: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.keys(a)
      .sort()
      .map((k) => [k, a[k] as string]),
  );
}

/** The config blob: ggcr's empty image with one history entry and diff_id per layer (233 bytes for one). */
export function signatureConfig(payloadDigests: string[]): Buffer {
  const history = payloadDigests.map(() => ({ created: '0001-01-01T00:00:00Z' }));
  const json = `{"architecture":"","created":"0001-01-01T00:00:00Z","history":${JSON.stringify(history)},"os":"","rootfs":{"type":"layers","diff_ids":${JSON.stringify(payloadDigests)}},"config":{}}`;
  return Buffer.from(json, 'utf8');
}

export interface BuiltSignatureManifest {
  manifest: Buffer;
  descriptor: Descriptor;
  config: { descriptor: Descriptor; bytes: Buffer };
  layers: Array<{ descriptor: Descriptor; bytes: Uint8Array }>;
}

/** The manifest and blobs for these signature layers, byte-compatible with cosign. */
export function buildSignatureManifest(layers: SignatureLayer[]): BuiltSignatureManifest {
  if (layers.length === 0) throw new AionError('ST005', 'a signature manifest needs at least one signature');
  if (layers.length > MAX_SIGNATURE_LAYERS)
    throw new AionError('ST005', `too many signatures (${layers.length}); cosign allows ${MAX_SIGNATURE_LAYERS}`);
  const built = layers.map((l) => ({
    bytes: l.foreign ? new Uint8Array(0) : l.payload,
    descriptor: l.foreign
      ? { ...l.foreign }
      : ({
          mediaType: l.mediaType,
          size: l.payload.length,
          digest: sha256Digest(l.payload),
          annotations: sortedAnnotations(l.annotations),
        } as Descriptor),
  }));
  // diff_ids equal the digests: cosign layers are uncompressed.
  const configBytes = signatureConfig(built.map((b) => b.descriptor.digest));
  const configDescriptor: Descriptor = {
    mediaType: OCI_CONFIG_MEDIA_TYPE,
    size: configBytes.length,
    digest: sha256Digest(configBytes),
  };
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.imageManifest,
      config: configDescriptor,
      layers: built.map((b) => b.descriptor),
    }),
  );
  return {
    manifest,
    descriptor: { mediaType: MEDIA_TYPES.imageManifest, size: manifest.length, digest: sha256Digest(manifest) },
    config: { descriptor: configDescriptor, bytes: configBytes },
    layers: built,
  };
}

/** Parsed signature manifest: the layer descriptors to fetch. Refuses non-manifests and absurd sizes. */
export function parseSignatureManifest(bytes: Uint8Array): Descriptor[] {
  if (bytes.length > MAX_SIGNATURE_MANIFEST_BYTES)
    throw new AionError('ST005', `signature manifest is ${bytes.length} bytes (limit ${MAX_SIGNATURE_MANIFEST_BYTES})`);
  let value: { schemaVersion?: unknown; mediaType?: unknown; layers?: unknown };
  try {
    value = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw new AionError('ST005', 'signature manifest is not JSON', { cause: err });
  }
  if (value?.schemaVersion !== 2 || !Array.isArray(value.layers))
    throw new AionError('ST005', 'signature manifest is not an image manifest (schemaVersion 2 with layers)');
  if (value.layers.length > MAX_SIGNATURE_LAYERS)
    throw new AionError(
      'ST005',
      `signature manifest has ${value.layers.length} layers (limit ${MAX_SIGNATURE_LAYERS})`,
    );
  return value.layers.map((l: unknown, i: number) => {
    const d = l as Descriptor;
    if (!d || typeof d.digest !== 'string' || typeof d.size !== 'number' || typeof d.mediaType !== 'string')
      throw new AionError('ST005', `signature manifest layer ${i + 1} is not a descriptor`);
    return d;
  });
}

/** Whether `candidate` is already present in `existing` (cosign's dedupe: same payload, media type, annotations
 * apart from the signature, and the existing signature verifies — checked by `signatureVerifies`). */
export function isDuplicateSignature(
  existing: SignatureLayer,
  candidate: SignatureLayer,
  signatureVerifies: (layer: SignatureLayer) => boolean,
): boolean {
  if (existing.mediaType !== candidate.mediaType) return false;
  if (!Buffer.from(existing.payload).equals(Buffer.from(candidate.payload))) return false;
  const strip = (a: Record<string, string>) =>
    JSON.stringify(
      sortedAnnotations(Object.fromEntries(Object.entries(a).filter(([k]) => k !== SIGNATURE_ANNOTATION))),
    );
  if (strip(existing.annotations) !== strip(candidate.annotations)) return false;
  return signatureVerifies(existing);
}

/** The digest of manifest bytes. Schema-1 manifests (digest excludes their JWS signatures) are refused. */
export function manifestDigest(bytes: Uint8Array): string {
  const head = Buffer.from(bytes.subarray(0, 4096)).toString('utf8');
  if (/"schemaVersion"\s*:\s*1\b/.test(head))
    throw new AionError('ST006', 'schema-1 manifests are not supported: their digest cannot be computed reliably', {
      hint: 'convert the image to a schema-2 or OCI manifest',
    });
  return sha256Digest(bytes);
}
