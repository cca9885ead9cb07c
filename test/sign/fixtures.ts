import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Descriptor, MEDIA_TYPES, type Target } from '../../src/lib/oci/types.js';
import { buildSignatureManifest, sha256Digest } from '../../src/lib/sign/index.js';
import { VECTORS, type VectorCase, readLayers, readOptional } from './vectors.js';

export const PASSWORD = 'correct horse';

/** Pushes a small, unique artifact (config + one layer + manifest) and tags it. */
export async function pushArtifact(
  target: Target,
  tag: string,
  content = randomBytes(32),
  configMediaType: string = MEDIA_TYPES.agentConfig,
): Promise<Descriptor> {
  const config = Buffer.from(JSON.stringify({ name: 'agent', nonce: content.toString('hex') }));
  const configD: Descriptor = { mediaType: configMediaType, size: config.length, digest: sha256Digest(config) };
  const layerD: Descriptor = { mediaType: MEDIA_TYPES.fileLayer, size: content.length, digest: sha256Digest(content) };
  await target.pushBlob(configD, config);
  await target.pushBlob(layerD, content);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.imageManifest,
      ...(configMediaType === MEDIA_TYPES.agentConfig ? { artifactType: MEDIA_TYPES.agentArtifact } : {}),
      config: configD,
      layers: [layerD],
    }),
  );
  const d: Descriptor = { mediaType: MEDIA_TYPES.imageManifest, size: manifest.length, digest: sha256Digest(manifest) };
  await target.pushManifest(d, manifest, tag);
  return d;
}

export function manifestMediaType(bytes: Buffer): string {
  const parsed = JSON.parse(bytes.toString()) as { mediaType?: string; schemaVersion?: number };
  if (parsed.mediaType) return parsed.mediaType;
  return parsed.schemaVersion === 1
    ? 'application/vnd.docker.distribution.manifest.v1+prettyjws'
    : MEDIA_TYPES.imageManifest;
}

/**
 * Plants a vector in a layout-like Target: its image manifest (when present) under `tag`, and its signature
 * layers as the `sha256-<hex>.sig` manifest of the digest the payloads name. Returns that digest.
 */
export async function plantVector(target: Target, folder: string, tag: string): Promise<string> {
  const manifest = await readOptional(join(VECTORS, folder, 'manifest.json'));
  const layers = await readLayers(folder);
  const signed = /"docker-manifest-digest":"(sha256:[a-f0-9]{64})"/.exec(
    Buffer.from(layers.find((l) => l.mediaType === MEDIA_TYPES.cosignSimpleSigning)?.payload ?? '').toString(),
  )?.[1];
  const digest = manifest ? sha256Digest(manifest) : (signed as string);
  if (manifest)
    await target.pushManifest({ mediaType: manifestMediaType(manifest), size: manifest.length, digest }, manifest, tag);
  // The signatures hang off the digest they were made for (the modified-manifest case keeps the original's .sig
  // under the modified manifest's digest, as if the image had been swapped under its signature).
  const built = buildSignatureManifest(layers);
  await target.pushBlob(built.config.descriptor, built.config.bytes);
  for (const l of built.layers) if (!(await target.exists(l.descriptor))) await target.pushBlob(l.descriptor, l.bytes);
  const hex = digest.slice('sha256:'.length);
  await target.pushManifest(built.descriptor, built.manifest, `sha256-${hex}.sig`);
  return digest;
}

export const vectorFile = (rel: string) => join(VECTORS, rel);
export const readVector = (rel: string) => readFile(join(VECTORS, rel), 'utf8');

/** Plants manifest bytes straight into distribution's filesystem storage (no blob checks), tagged `tag`. */
export async function plantInRegistryStorage(storageRoot: string, repository: string, tag: string, manifest: Buffer) {
  const { mkdir, writeFile } = await import('node:fs/promises');
  const digest = sha256Digest(manifest);
  const hex = digest.slice('sha256:'.length);
  const v2 = join(storageRoot, 'docker', 'registry', 'v2');
  const put = async (path: string, data: string | Buffer) => {
    await mkdir(join(path, '..'), { recursive: true });
    await writeFile(path, data);
  };
  await put(join(v2, 'blobs', 'sha256', hex.slice(0, 2), hex, 'data'), manifest);
  const m = join(v2, 'repositories', repository, '_manifests');
  await put(join(m, 'revisions', 'sha256', hex, 'link'), digest);
  await put(join(m, 'tags', tag, 'current', 'link'), digest);
  await put(join(m, 'tags', tag, 'index', 'sha256', hex, 'link'), digest);
  return digest;
}

/** Verify-command arguments for one vector case. */
export function vectorArgs(c: VectorCase): string[] {
  const args: string[] = [];
  if (c.key) args.push('--key', vectorFile(c.key));
  if (c.reference) args.push('--identity', c.reference);
  if (c.rekorKey) args.push('--rekor-key', vectorFile(c.rekorKey));
  const roots = c.fulcioCA ?? c.caRoots;
  if (roots) args.push('--ca-roots', vectorFile(roots));
  if (c.caIntermediates) args.push('--ca-intermediates', vectorFile(c.caIntermediates));
  for (const id of [c.identity?.email, c.identity?.hostname]) if (id) args.push('--certificate-identity', id);
  if (c.identity?.oidcIssuer) args.push('--certificate-oidc-issuer', c.identity.oidcIssuer);
  return args;
}

/** The failure class each rejected vector must give (ST code), by case, reference and key. */
export function expectedRejection(c: VectorCase, where: 'layout' | 'registry'): RegExp {
  if (c.case === 'classic-no-manifest') return /^RG003$/;
  if (c.case === 'classic-manifest-digest-error') return where === 'layout' ? /^ST006$/ : /^(ST006|RG\d{3})$/;
  if (c.case === 'classic-other-attachment') return /^ST001$/;
  if (c.identity?.email === 'this-does-not-match@example.com') return /^ST010$/;
  if (c.case === 'classic-fulcio-rekor') return /^ST011$/;
  if (c.key === 'keys/cosign2.pub' || c.case === 'classic-unknown-key' || c.case === 'classic-key-with-rekor-set')
    return /^ST002$/;
  if (c.case === 'classic-modified-manifest') return /^ST003$/;
  return /^ST004$/; // the remaining rejections are identity (policy) cases
}
