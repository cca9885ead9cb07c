/**
 * The default local store: ONE OCI image layout at `resolvePaths().store` shared by every package. A package
 * `NAME:VERSION` is the index.json entry whose ref.name is `NAME:VERSION` (repository, colon, tag), so many
 * packages and versions coexist and skopeo can read one as `oci:STORE:NAME:VERSION`.
 *
 * Store names: what `pack` stores is `NAME` (the package name or `--tag NAME`); what `pull` stores from a registry
 * keeps the registry host, `HOST[:PORT]/REPOSITORY` (as `docker images` does), so the same repository on two
 * registries never overwrites each other; an artifact never names where it is stored.
 */
import { basename, resolve } from 'node:path';
import { resolvePaths } from '../config/index.js';
import type { Env } from '../env/index.js';
import { AionError } from '../errors/index.js';
import { artifactSize, listSignatures, readManifest } from './inspect.js';
import { LayoutTarget, REF_NAME } from './layout.js';
import { ANNOTATIONS } from './media-types.js';
import { assertRepository } from './names.js';
import type { ArtifactReference, Descriptor } from './types.js';

export function storeRoot(env: Env): string {
  return resolvePaths(env).store;
}

const HOST = /^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*|\[[0-9a-f:.]+\])(?::\d{1,5})?$/;

/** A store name: a repository name, optionally prefixed with the registry host it was pulled from. RG105 else. */
export function assertStoreName(name: string): string {
  const slash = name.indexOf('/');
  const first = slash < 0 ? '' : name.slice(0, slash);
  if (first && (first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('['))) {
    if (!HOST.test(first)) {
      throw new AionError('RG105', `invalid store name "${name}": "${first}" is not a registry host`, {
        hint: 'a store name is REPOSITORY or HOST[:PORT]/REPOSITORY, e.g. ghcr.io/acme/agent',
      });
    }
    assertRepository(name.slice(slash + 1));
    return name;
  }
  return assertRepository(name);
}

/** The store seen as one repository: tags are the versions of package `repository`. */
export function openStore(repository: string, env: Env): LayoutTarget {
  assertStoreName(repository);
  return new LayoutTarget(storeRoot(env), { refPrefix: `${repository}:`, name: `store ${repository}` });
}

/**
 * The store name an artifact from `ref` is kept under (unless the caller names one): a registry reference keeps
 * its host (`ghcr.io/acme/agent`), the store keeps its name, an oci: layout is named after its directory. The
 * artifact's own annotations are never consulted: content does not choose where it is stored.
 */
export function storeNameFor(ref: ArtifactReference, cwd = ''): string {
  switch (ref.kind) {
    case 'registry':
      return `${ref.registry}/${ref.repository}`;
    case 'store':
      return ref.repository;
    case 'layout': {
      const dir = basename(resolve(cwd, ref.path))
        .toLowerCase()
        .replace(/[^a-z0-9._-]+/g, '_')
        .replace(/[._-]{2,}/g, '_')
        .replace(/^[._-]+|[._-]+$/g, '');
      return dir || 'package';
    }
  }
}

export interface StoreEntry {
  repository: string;
  tag: string;
  descriptor: Descriptor;
}

/** Every `NAME:TAG` in the store, sorted. */
export async function listStore(env: Env): Promise<StoreEntry[]> {
  const index = await new LayoutTarget(storeRoot(env), { name: 'store' }).readIndex();
  const out: StoreEntry[] = [];
  for (const d of index.manifests) {
    const refName = d.annotations?.[REF_NAME];
    const colon = refName?.lastIndexOf(':') ?? -1;
    if (refName === undefined || colon <= 0) continue;
    out.push({ repository: refName.slice(0, colon), tag: refName.slice(colon + 1), descriptor: d });
  }
  return out.sort((a, b) => (a.repository + ':' + a.tag < b.repository + ':' + b.tag ? -1 : 1));
}

/** A referrer/attachment tag (`sha256-<hex>`, `sha256-<hex>.sig`): not an image of its own. */
export function isAttachmentTag(tag: string): boolean {
  return /^sha256-[0-9a-f]{64}(\.[a-z]+)?$/.test(tag);
}

export interface StoreImage {
  name: string;
  tag: string;
  digest: string;
  mediaType: string;
  artifactType: string | null;
  /** Manifest + config + layers, each blob counted once. */
  size: number;
  /** cosign `.sig` signatures plus Sigstore bundle referrers. */
  signatures: number;
  /** org.opencontainers.image.created when recorded, else null. */
  created: string | null;
}

/**
 * What `aionctl images` lists: every `NAME:TAG` of the store (attachment tags hidden) with its digest, size and
 * signature count. An entry whose manifest is missing or unreadable is still listed, with size 0.
 */
export async function listStoreImages(env: Env): Promise<StoreImage[]> {
  const out: StoreImage[] = [];
  for (const entry of await listStore(env)) {
    if (isAttachmentTag(entry.tag)) continue;
    const store = openStore(entry.repository, env);
    const descriptor: Descriptor = {
      mediaType: entry.descriptor.mediaType,
      digest: entry.descriptor.digest,
      size: entry.descriptor.size,
    };
    const image: StoreImage = {
      name: entry.repository,
      tag: entry.tag,
      digest: descriptor.digest,
      mediaType: descriptor.mediaType,
      artifactType: entry.descriptor.artifactType ?? null,
      size: 0,
      signatures: 0,
      created: null,
    };
    try {
      const { manifest } = await readManifest(store, descriptor);
      image.size = artifactSize(descriptor, manifest);
      image.artifactType = manifest.artifactType ?? manifest.config?.mediaType ?? image.artifactType;
      image.created = manifest.annotations?.[ANNOTATIONS.created] ?? null;
      image.signatures = (await listSignatures(store, descriptor)).length;
    } catch {
      // listed as found in index.json; `aionctl inspect` reports what is wrong with it
    }
    out.push(image);
  }
  return out;
}

export interface RemovedTag {
  name: string;
  tag: string;
  digest: string;
}

/**
 * `aionctl rm NAME:TAG` (or `NAME@DIGEST`: every tag of NAME pointing at it): removes store tags. Blobs stay (other
 * tags and signatures may share them). RG003 when nothing matches.
 */
export async function removeStoreTag(
  repository: string,
  selector: { tag?: string; digest?: string },
  env: Env,
): Promise<RemovedTag[]> {
  const store = openStore(repository, env);
  const tags = await store.listTags();
  const doomed = tags.filter((t) =>
    selector.tag !== undefined
      ? t.refName === selector.tag && (selector.digest === undefined || t.descriptor.digest === selector.digest)
      : t.descriptor.digest === selector.digest && !isAttachmentTag(t.refName),
  );
  if (doomed.length === 0) {
    const what = selector.tag !== undefined ? `${repository}:${selector.tag}` : `${repository}@${selector.digest}`;
    const known = tags.filter((t) => !isAttachmentTag(t.refName)).map((t) => t.refName);
    throw new AionError('RG003', `${what} is not in the store`, {
      hint:
        known.length > 0
          ? `tags of ${repository}: ${known.slice(0, 10).join(', ')}`
          : 'list the store with: aionctl images',
    });
  }
  const removed: RemovedTag[] = [];
  for (const t of doomed) {
    if (await store.untag(t.refName)) removed.push({ name: repository, tag: t.refName, digest: t.descriptor.digest });
  }
  return removed;
}
