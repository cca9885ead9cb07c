/**
 * The one copy engine behind `copy`, `push` and `pull`: walks a manifest graph (index → manifests → config and
 * layers) from any ReadTarget into any Target. Children are stored before their parents, so a manifest present
 * in the destination implies its whole graph is there (existing blobs and sub-manifests are skipped). Blob
 * transfers run with bounded concurrency and every byte is verified by the destination while it streams.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pLimit from 'p-limit';
import { AionError, isNotFoundError } from '../errors/index.js';
import { digestHex, forwardVerified } from './digest.js';
import { isIndexMediaType, isManifestMediaType } from './layout.js';
import type { Descriptor, ReadTarget, Target } from './types.js';

export type CopyEvent =
  | { kind: 'blob-start'; descriptor: Descriptor }
  | { kind: 'blob-progress'; descriptor: Descriptor; transferred: number }
  | { kind: 'blob-done'; descriptor: Descriptor }
  | { kind: 'blob-skip'; descriptor: Descriptor }
  | { kind: 'manifest'; descriptor: Descriptor; tag?: string }
  | { kind: 'referrer'; descriptor: Descriptor; subject: Descriptor }
  /** Something the user should know that did not stop the copy (the command prints it; the library never does). */
  | { kind: 'warning'; message: string };

export interface CopyOptions {
  /** Also copy the referrers (signatures, SBOMs, attestations) and cosign `sha256-<hex>.sig/.att/.sbom` tags. */
  referrers?: boolean;
  /**
   * Which referrers to copy: only those whose artifactType is listed and whose blobs total at most `maxBytes`
   * (anyone can attach referrers to an artifact; a pull should not download whatever was attached). Cosign's
   * `.sig/.att/.sbom` tags are size-checked the same way. Default: every referrer.
   */
  referrerPolicy?: { artifactTypes: ReadonlySet<string>; maxBytes: number };
  /** Parallel blob transfers (default 4). */
  concurrency?: number;
  onProgress?: (event: CopyEvent) => void;
  /** Aborts the copy: no new transfer starts and running blob streams are destroyed (nothing partial is kept). */
  signal?: AbortSignal;
}

export interface CopyResult {
  descriptor: Descriptor;
  tag?: string;
  blobsCopied: number;
  blobsSkipped: number;
  bytesCopied: number;
  manifestsCopied: number;
  /** Referrer manifests copied (their digests), in the order found. */
  referrers: Descriptor[];
}

/** Cosign's pre-referrers tag suffixes (`sha256-<hex>.sig`); copied with the artifact so signatures travel. */
const COSIGN_TAG_SUFFIXES = ['.sig', '.att', '.sbom'] as const;
const MAX_REFERRER_DEPTH = 8;
/** Config blobs are small JSON documents: a descriptor declaring more is refused before anything streams. */
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;
const MAX_REFERRER_MANIFEST_BYTES = 64 * 1024;

export async function copyArtifact(
  src: ReadTarget,
  srcRef: string | Descriptor,
  dst: Target,
  dstTag: string | undefined,
  options: CopyOptions = {},
): Promise<CopyResult> {
  const limit = pLimit(options.concurrency ?? 4);
  const emit = options.onProgress ?? (() => undefined);
  const signal = options.signal;
  const result: CopyResult = {
    descriptor: { mediaType: '', digest: '', size: 0 },
    blobsCopied: 0,
    blobsSkipped: 0,
    bytesCopied: 0,
    manifestsCopied: 0,
    referrers: [],
  };
  const blobs = new Map<string, Promise<void>>();
  const manifests = new Map<string, Promise<void>>();

  function copyBlob(descriptor: Descriptor): Promise<void> {
    let pending = blobs.get(descriptor.digest);
    if (!pending) {
      pending = (async () => {
        if (await dst.exists(descriptor)) {
          result.blobsSkipped++;
          emit({ kind: 'blob-skip', descriptor });
          return;
        }
        await limit(async () => {
          signal?.throwIfAborted();
          emit({ kind: 'blob-start', descriptor });
          const stream = await src.fetchBlob(descriptor, signal ? { signal } : {});
          // the counter passes on exactly what the source delivers (and dies with its error): a source that
          // verifies itself stays trusted, so the destination does not hash the bytes a second time
          const counted = forwardVerified(stream, progressCounter(descriptor, emit));
          // pipeline() also propagates an error the source raised before the destination starts reading
          pipeline(stream, counted, signal ? { signal } : {}).catch(() => undefined);
          // reopen: a registry upload that fails mid-stream reads the blob again instead of failing the copy
          await dst.pushBlob(descriptor, counted, {
            reopen: () => src.fetchBlob(descriptor, signal ? { signal } : {}),
            checkedAbsent: true,
          });
          result.blobsCopied++;
          result.bytesCopied += descriptor.size;
          emit({ kind: 'blob-done', descriptor });
        });
      })();
      blobs.set(descriptor.digest, pending);
    }
    return pending;
  }

  async function copyManifest(descriptor: Descriptor, tag?: string, root = false): Promise<void> {
    if (!isManifestMediaType(descriptor.mediaType)) {
      throw new AionError('RG011', `cannot copy ${descriptor.digest}: unsupported media type ${descriptor.mediaType}`);
    }
    signal?.throwIfAborted();
    const { bytes } = await src.fetchManifest(descriptor);
    // A root or tagged manifest is always walked (cheap: existing blobs are skipped) so a half-copied graph heals.
    if (root || tag !== undefined || !(await dst.exists(descriptor))) {
      const parsed = parseManifest(bytes, descriptor);
      if (parsed.config && typeof parsed.config.size === 'number' && parsed.config.size > MAX_CONFIG_BYTES) {
        throw new AionError(
          'RG040',
          `the config of ${descriptor.digest} declares ${parsed.config.size} bytes, over the ${MAX_CONFIG_BYTES}-byte cap`,
          { hint: 'configs are small JSON documents; this artifact is broken or hostile, nothing was copied' },
        );
      }
      if (isIndexMediaType(descriptor.mediaType)) {
        await Promise.all((parsed.manifests ?? []).map((child) => copyChild(child)));
      } else {
        await Promise.all([parsed.config, ...(parsed.layers ?? [])].map((d) => copyBlob(d as Descriptor)));
      }
      result.manifestsCopied++;
    }
    await dst.pushManifest(descriptor, bytes, tag);
    emit({ kind: 'manifest', descriptor, ...(tag !== undefined ? { tag } : {}) });
  }

  function copyChild(descriptor: Descriptor): Promise<void> {
    let pending = manifests.get(descriptor.digest);
    if (!pending) {
      pending = copyManifest(descriptor);
      manifests.set(descriptor.digest, pending);
    }
    return pending;
  }

  /** Whether the source has `tag`: from its tag list, or asked one by one where listing is forbidden. */
  async function hasTag(srcTags: Set<string> | undefined, tag: string): Promise<boolean> {
    if (srcTags) return srcTags.has(tag);
    try {
      await src.resolve(tag);
      return true;
    } catch (err) {
      if (isNotFoundError(err)) return false;
      throw err;
    }
  }

  /** Whether a referrer manifest is small and its blobs total at most the policy's cap. */
  async function referrerFits(descriptor: Descriptor): Promise<boolean> {
    const policy = options.referrerPolicy;
    if (!policy) return true;
    if (descriptor.size > MAX_REFERRER_MANIFEST_BYTES || !isManifestMediaType(descriptor.mediaType)) return false;
    const parsed = parseManifest((await src.fetchManifest(descriptor)).bytes, descriptor);
    const parts = [parsed.config, ...(parsed.layers ?? []), ...(parsed.manifests ?? [])];
    const total = parts.reduce((sum, d) => sum + (typeof d?.size === 'number' && d.size >= 0 ? d.size : Infinity), 0);
    return total <= policy.maxBytes;
  }

  async function copyReferrers(subject: Descriptor, depth: number, srcTags: Set<string> | undefined): Promise<void> {
    if (depth > MAX_REFERRER_DEPTH) return;
    const policy = options.referrerPolicy;
    for (const referrer of await src.referrers(subject)) {
      if (result.referrers.some((r) => r.digest === referrer.digest)) continue;
      if (policy && !(referrer.artifactType !== undefined && policy.artifactTypes.has(referrer.artifactType))) continue;
      if (!(await referrerFits(referrer))) continue;
      await copyChild(referrer);
      result.referrers.push(referrer);
      emit({ kind: 'referrer', descriptor: referrer, subject });
      await copyReferrers(referrer, depth + 1, srcTags);
    }
    for (const suffix of COSIGN_TAG_SUFFIXES) {
      const tag = `sha256-${digestHex(subject.digest)}${suffix}`;
      if (!(await hasTag(srcTags, tag))) continue;
      const descriptor = await src.resolve(tag);
      if (!(await referrerFits(descriptor))) continue;
      await copyManifest(descriptor, tag);
      if (!result.referrers.some((r) => r.digest === descriptor.digest)) result.referrers.push(descriptor);
      emit({ kind: 'referrer', descriptor, subject });
    }
  }

  const root = typeof srcRef === 'string' ? await src.resolve(srcRef) : srcRef;
  result.descriptor = root;
  if (dstTag !== undefined) result.tag = dstTag;
  await copyManifest(root, dstTag, true);
  if (options.referrers) {
    let srcTags: Set<string> | undefined;
    try {
      srcTags = new Set(await src.tags());
    } catch (err) {
      // ECR without ListImages, and others, forbid listing tags: look the cosign tags up one by one instead.
      if (!(err instanceof AionError) || !['RG006', 'RG007', 'RG013'].includes(err.code)) throw err;
      emit({
        kind: 'warning',
        message: `${src.name} does not allow listing tags (${err.code}); cosign signature tags are looked up one by one`,
      });
    }
    await copyReferrers(root, 1, srcTags);
  }
  return result;
}

interface ParsedManifest {
  config?: Descriptor;
  layers?: Descriptor[];
  manifests?: Descriptor[];
}

function parseManifest(bytes: Uint8Array, descriptor: Descriptor): ParsedManifest {
  let parsed: ParsedManifest;
  try {
    parsed = JSON.parse(Buffer.from(bytes).toString('utf8')) as ParsedManifest;
  } catch (err) {
    throw new AionError('RG011', `manifest ${descriptor.digest} is not valid JSON`, { cause: err });
  }
  const index = isIndexMediaType(descriptor.mediaType);
  const ok = index
    ? Array.isArray(parsed.manifests)
    : typeof parsed.config?.digest === 'string' && Array.isArray(parsed.layers ?? []);
  if (!ok) throw new AionError('RG011', `manifest ${descriptor.digest} lacks ${index ? 'manifests' : 'config'}`);
  return parsed;
}

/** Counts bytes for progress. */
function progressCounter(descriptor: Descriptor, emit: (event: CopyEvent) => void): Transform {
  let transferred = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      transferred += chunk.length;
      emit({ kind: 'blob-progress', descriptor, transferred });
      callback(null, chunk);
    },
  });
  counter.on('error', () => undefined); // observed by the destination's pipeline
  return counter;
}
