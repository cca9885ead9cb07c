/**
 * The one copy engine behind `copy`, `push` and `pull`: walks a manifest graph (index → manifests → config and
 * layers) from any ReadTarget into any Target. Children are stored before their parents, so a manifest present
 * in the destination implies its whole graph is there (existing blobs and sub-manifests are skipped). Blob
 * transfers run with bounded concurrency and every byte is verified by the destination while it streams.
 */
import { addAbortSignal } from 'node:stream';
import pLimit from 'p-limit';
import { AionError, isNotFoundError } from '../errors/index.js';
import { digestHex } from './digest.js';
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
  // The caller's signal, and ours: when one transfer fails, the others are stopped and awaited before the copy
  // rejects, so no sibling is still writing (or removing its temp file) once the caller sees the error.
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  /** All of `tasks`; on the first failure the rest are stopped, and it is thrown once every task has settled. */
  async function all(tasks: Promise<void>[]): Promise<void> {
    let failed: { error: unknown } | undefined;
    await Promise.all(
      tasks.map((task) =>
        task.catch((error: unknown) => {
          if (failed) return;
          failed = { error };
          stop.abort(error);
        }),
      ),
    );
    if (failed) throw failed.error;
  }
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
          signal.throwIfAborted();
          emit({ kind: 'blob-start', descriptor });
          const fetched = await src.fetchBlob(descriptor, { signal });
          // The destination reads the source's stream itself (a source that verifies itself stays trusted, so the
          // bytes are not hashed a second time) and reports progress: no pass-through stage per chunk. An error
          // the source raises before the destination reads stays on the stream (the destination sees it).
          const stream = addAbortSignal(signal, fetched);
          stream.on('error', () => undefined);
          // reopen: a registry upload that fails mid-stream reads the blob again instead of failing the copy
          try {
            await dst.pushBlob(descriptor, stream, {
              reopen: () => src.fetchBlob(descriptor, { signal }),
              checkedAbsent: true,
              onProgress: (transferred) => emit({ kind: 'blob-progress', descriptor, transferred }),
            });
          } finally {
            stream.destroy(); // a destination that failed early leaves no download or file open (no-op once read)
          }
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
    signal.throwIfAborted();
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
        await all((parsed.manifests ?? []).map((child) => copyChild(child)));
      } else {
        await all([parsed.config, ...(parsed.layers ?? [])].map((d) => copyBlob(d as Descriptor)));
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

  async function copyReferrers(
    subject: Descriptor,
    depth: number,
    srcTags: Set<string> | undefined,
    listed?: Promise<Descriptor[]>,
  ): Promise<void> {
    if (depth > MAX_REFERRER_DEPTH) return;
    const policy = options.referrerPolicy;
    for (const referrer of await (listed ?? src.referrers(subject))) {
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
  // The source's tag list and the root's referrers are asked for while the graph copies (round trips off the
  // critical path); what they list is still copied after the root, and their errors surface where they are used.
  const early = options.referrers
    ? { tags: settleLater(src.tags()), referrers: settleLater(src.referrers(root)) }
    : null;
  await copyManifest(root, dstTag, true);
  if (early) {
    let srcTags: Set<string> | undefined;
    try {
      srcTags = new Set(await early.tags);
    } catch (err) {
      // ECR without ListImages, and others, forbid listing tags: look the cosign tags up one by one instead.
      if (!(err instanceof AionError) || !['RG006', 'RG007', 'RG013'].includes(err.code)) throw err;
      emit({
        kind: 'warning',
        message: `${src.name} does not allow listing tags (${err.code}); cosign signature tags are looked up one by one`,
      });
    }
    await copyReferrers(root, 1, srcTags, early.referrers);
  }
  return result;
}

/** `promise`, with a rejection that counts as handled until someone awaits it (started early, maybe never used). */
function settleLater<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
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
