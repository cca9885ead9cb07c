/**
 * An OCI image layout on disk (image-spec image-layout.md) as a `Target`: `oci-layout`, `index.json` whose
 * descriptors carry tags in `org.opencontainers.image.ref.name`, and `blobs/sha256/<hex>`.
 *
 * Safety across processes (ORAS corrupts shared layouts, oras#1888): blobs are streamed into `ingest/`, verified,
 * fsynced and renamed into place, so `blobs/` never holds an unverified file; `index.json` is only changed under
 * a lock (proper-lockfile, `index.json.lock`) by re-reading it, merging the change and renaming a temp file over
 * it. Readers never lock: they always see a whole old or a whole new index.
 *
 * Tags: in a plain layout `ref.name` is the tag itself (what skopeo and ORAS expect for `oci:PATH:tag`). The store
 * shares one layout between repositories with `refPrefix` `REPOSITORY:`, so ref.name is `name:version`.
 * Referrers: a manifest with a `subject` is listed in index.json without a ref.name; `referrers()` answers from
 * those and from `sha256-<hex>` tag-schema indexes.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { type FileHandle, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AionError, fsError } from '../errors/index.js';
import { ensureDir, writeFileAtomic } from '../fs/index.js';
import {
  DigestVerifier,
  digestHex,
  isVerifiedStream,
  markVerified,
  parseDigest,
  verificationFailed,
  verifyBytes,
} from './digest.js';
import { sweepIngest, trackTemp } from './ingest.js';
import { assertTag, MAX_MANIFEST_BYTES, referrersTagFor } from './names.js';
import {
  type Descriptor,
  type Digest,
  type FetchedManifest,
  type ImageIndex,
  MEDIA_TYPES,
  type PushBlobOptions,
  type ReadOptions,
  type Target,
} from './types.js';

export const REF_NAME = 'org.opencontainers.image.ref.name';
const LAYOUT_VERSION = '1.0.0';

export const MANIFEST_MEDIA_TYPES: ReadonlySet<string> = new Set([
  MEDIA_TYPES.imageManifest,
  MEDIA_TYPES.imageIndex,
  MEDIA_TYPES.dockerManifest,
  MEDIA_TYPES.dockerManifestList,
]);
const INDEX_MEDIA_TYPES: ReadonlySet<string> = new Set([MEDIA_TYPES.imageIndex, MEDIA_TYPES.dockerManifestList]);

export function isManifestMediaType(mediaType: string): boolean {
  return MANIFEST_MEDIA_TYPES.has(mediaType);
}
export function isIndexMediaType(mediaType: string): boolean {
  return INDEX_MEDIA_TYPES.has(mediaType);
}

export interface LayoutOptions {
  /** Prepended to tags to form ref.name (the store uses `REPOSITORY:`); empty for a plain layout. */
  refPrefix?: string;
  /** Shown in messages; defaults to `oci:ROOT`. */
  name?: string;
}

/** A tag that pointed at one manifest and now points at another (what `pack`/`pull` report as "moved"). */
export interface TagMove {
  /** The tag as the caller sees it (without the store's `NAME:` prefix). */
  tag: string;
  from: Descriptor;
  to: Descriptor;
}

/** One tagged entry of index.json, as the tag the caller sees. */
export interface LayoutTag {
  refName: string;
  descriptor: Descriptor;
}

export class LayoutTarget implements Target {
  readonly root: string;
  readonly name: string;
  private readonly refPrefix: string;
  /** Every tag this target moved from one digest to another, in order (pushManifest and tag add to it). */
  readonly moves: TagMove[] = [];
  /** A blob was renamed into blobs/sha256 since that directory was last synced (see updateIndex). */
  private renamed = false;

  constructor(root: string, options: LayoutOptions = {}) {
    this.root = root;
    this.refPrefix = options.refPrefix ?? '';
    this.name = options.name ?? `oci:${root}`;
  }

  /** A layout holds no connections. */
  async close(): Promise<void> {}

  // ---- paths -------------------------------------------------------------------------------------------------

  blobPath(digest: string): string {
    return join(this.root, 'blobs', 'sha256', digestHex(digest));
  }

  private get indexPath(): string {
    return join(this.root, 'index.json');
  }

  // ---- index.json ----------------------------------------------------------------------------------------------

  /** The current index.json; an empty index when the layout does not exist yet. RG104 when it is unusable. */
  async readIndex(): Promise<ImageIndex> {
    let text: string;
    try {
      text = await readFile(this.indexPath, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        await this.checkLayoutFile();
        return emptyIndex();
      }
      throw fsError(err, this.indexPath);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new AionError('RG104', `${this.indexPath} is not valid JSON`, {
        cause: err,
        hint: 'the layout is damaged; restore index.json or start a new layout',
      });
    }
    const manifests = (parsed as { manifests?: unknown } | null)?.manifests;
    if (typeof parsed !== 'object' || parsed === null || !Array.isArray(manifests)) {
      throw new AionError('RG104', `${this.indexPath} is not an OCI image index (no "manifests" array)`, {
        hint: 'point at the root of an OCI image layout (the directory holding oci-layout and index.json)',
      });
    }
    return parsed as ImageIndex;
  }

  /** Refuses a directory whose oci-layout names a version we do not know (a missing file is fine: new layout). */
  /** Whether an OCI image layout (index.json or oci-layout) is at the root: a missing one reads as empty. */
  async layoutExists(): Promise<boolean> {
    for (const file of ['index.json', 'oci-layout']) {
      try {
        await stat(join(this.root, file));
        return true;
      } catch {
        // try the next one
      }
    }
    return false;
  }

  private async checkLayoutFile(): Promise<void> {
    let text: string;
    try {
      text = await readFile(join(this.root, 'oci-layout'), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return;
      throw fsError(err, join(this.root, 'oci-layout'));
    }
    let version: unknown;
    try {
      version = (JSON.parse(text) as { imageLayoutVersion?: unknown }).imageLayoutVersion;
    } catch {
      version = undefined;
    }
    if (version !== LAYOUT_VERSION) {
      throw new AionError(
        'RG104',
        `${this.root} has an unsupported oci-layout (imageLayoutVersion ${String(version)})`,
        {
          hint: `aionctl reads image layouts of version ${LAYOUT_VERSION}`,
        },
      );
    }
  }

  private initialised?: Promise<void>;

  /** Creates the layout skeleton once per instance (blob writes are many; the skeleton check need not be). */
  private initialise(): Promise<void> {
    // A write ends with an index.json change under the lock: its module loads while the blobs stream.
    loadLockfile().catch(ignore);
    this.initialised ??= this.createSkeleton().catch((err) => {
      this.initialised = undefined;
      throw err;
    });
    return this.initialised;
  }

  /** Creates oci-layout, blobs/sha256 and ingest/ when missing. Idempotent and safe to race. */
  private async createSkeleton(): Promise<void> {
    await ensureDir(join(this.root, 'blobs', 'sha256'));
    await ensureDir(join(this.root, 'ingest'));
    // what killed writers left behind (their pid is gone): removed before this process adds its own
    await sweepIngest(join(this.root, 'ingest'));
    await this.checkLayoutFile();
    try {
      await stat(join(this.root, 'oci-layout'));
    } catch {
      await writeFileAtomic(
        join(this.root, 'oci-layout'),
        `${JSON.stringify({ imageLayoutVersion: LAYOUT_VERSION })}\n`,
      );
    }
  }

  /**
   * The only way index.json changes: take the lock, re-read, let `mutate` edit the fresh copy, write it by temp
   * file + rename, release. Concurrent processes serialise here, so no update is lost.
   */
  async updateIndex(mutate: (index: ImageIndex) => void): Promise<void> {
    await this.initialise();
    let release: () => Promise<void>;
    // proper-lockfile's default throws from a timer when the lock is lost (event loop stalled past `stale`);
    // record it instead and refuse to write: another process may own the index now.
    let compromised: Error | undefined;
    try {
      const lockfile = await loadLockfile();
      release = await lockfile.lock(this.root, {
        lockfilePath: join(this.root, 'index.json.lock'),
        stale: 15_000,
        onCompromised: (err: Error) => {
          compromised = err;
        },
        retries: { retries: 400, factor: 1.2, minTimeout: 5, maxTimeout: 100, randomize: true },
      });
    } catch (err) {
      throw new AionError('FS006', `cannot lock ${this.indexPath}: ${(err as Error).message}`, {
        cause: err,
        hint: 'another aionctl process is writing this layout; retry, or remove a stale index.json.lock',
      });
    }
    try {
      // Blobs renamed into place since the last index change: their directory entries become durable before
      // index.json may point at them (once per artifact, not once per blob).
      if (this.renamed) {
        this.renamed = false;
        await syncDirectory(join(this.root, 'blobs', 'sha256'));
      }
      const index = await this.readIndex();
      mutate(index);
      if (compromised) {
        throw new AionError('FS006', `lost the lock on ${this.indexPath}: ${compromised.message}`, {
          cause: compromised,
          hint: 'the machine stalled for over 15 s while writing; run the command again',
        });
      }
      await writeFileAtomic(this.indexPath, `${JSON.stringify(index)}\n`);
    } finally {
      await release().catch(() => undefined);
    }
  }

  /** Every tagged entry belonging to this target (prefix stripped). */
  async listTags(): Promise<LayoutTag[]> {
    const index = await this.readIndex();
    const out: LayoutTag[] = [];
    for (const entry of index.manifests) {
      const refName = entry.annotations?.[REF_NAME];
      if (refName === undefined || !refName.startsWith(this.refPrefix)) continue;
      // In the store, `localhost:` must not claim `localhost:5000/team/agent:1.0` (a tag holds no ':' or '/').
      if (this.refPrefix && /[:/]/.test(refName.slice(this.refPrefix.length))) continue;
      out.push({ refName: refName.slice(this.refPrefix.length), descriptor: entry });
    }
    return out;
  }

  // ---- ReadTarget -------------------------------------------------------------------------------------------------

  async tags(): Promise<string[]> {
    return [...new Set((await this.listTags()).map((t) => t.refName))].sort();
  }

  async resolve(reference: string): Promise<Descriptor> {
    const index = await this.readIndex();
    const refName = this.refPrefix + reference;
    // The last entry wins if a foreign tool left duplicates. A tag is looked up first: plain layouts (the store
    // read without a prefix) have ref.names like `name:1.0.0` that contain a colon but are not digests.
    const entry = index.manifests.findLast((d) => d.annotations?.[REF_NAME] === refName);
    if (entry) return plainDescriptor(entry);
    if (reference.includes(':')) {
      const digest = parseDigest(reference);
      const listed = index.manifests.find((d) => d.digest === digest);
      if (listed) return plainDescriptor(listed);
      const path = this.blobPath(digest);
      const bytes = await readSmall(path, this.name, digest);
      verifyBytes({ mediaType: '', digest, size: bytes.length }, bytes);
      const mediaType = (safeJson(bytes) as { mediaType?: unknown } | undefined)?.mediaType;
      if (typeof mediaType !== 'string' || !isManifestMediaType(mediaType)) {
        throw new AionError('RG011', `${digest} in ${this.name} is not a manifest with a known mediaType`, {
          hint: 'reference a manifest digest, not a layer or config blob',
        });
      }
      return { mediaType, digest, size: bytes.length };
    }
    if (!this.refPrefix && !(await this.layoutExists())) throw noLayout(this.root);
    const known = (await this.tags()).slice(0, 10);
    throw new AionError('RG003', `tag "${reference}" not found in ${this.name}`, {
      hint: known.length > 0 ? `known tags: ${known.join(', ')}` : `${this.name} holds no tags`,
    });
  }

  async fetchManifest(reference: string | Descriptor): Promise<FetchedManifest> {
    const descriptor = typeof reference === 'string' ? await this.resolve(reference) : reference;
    if (descriptor.size > MAX_MANIFEST_BYTES) throw tooLarge(descriptor.digest, descriptor.size);
    const bytes = await readSmall(this.blobPath(descriptor.digest), this.name, descriptor.digest);
    verifyBytes(descriptor, bytes);
    return { descriptor, bytes };
  }

  async fetchBlob(descriptor: Descriptor, options: ReadOptions = {}): Promise<Readable> {
    options.signal?.throwIfAborted();
    const path = this.blobPath(descriptor.digest);
    try {
      await stat(path);
    } catch (err) {
      throw notFound(descriptor.digest, this.name, err);
    }
    const verifier = markVerified(new DigestVerifier(descriptor), descriptor.digest);
    // Large reads: 64 KiB ones cost twice the wall time and ten times the CPU on a 256 MiB blob.
    const source = createReadStream(path, {
      highWaterMark: READ_CHUNK,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    source.on('error', (err) => verifier.destroy(err));
    // A small blob can fail verification before the caller attaches its pipeline; the error stays on the stream
    // (pipeline and async iteration still see it) instead of crashing the process as an unhandled 'error'.
    verifier.on('error', ignore);
    return source.pipe(verifier);
  }

  async exists(descriptor: Descriptor): Promise<boolean> {
    try {
      return (await stat(this.blobPath(descriptor.digest))).size === descriptor.size;
    } catch {
      return false;
    }
  }

  async referrers(subject: Descriptor, artifactType?: string): Promise<Descriptor[]> {
    const index = await this.readIndex();
    const found = new Map<string, Descriptor>();
    // 1. untagged manifests listed with a subject (what pushManifest records)
    const seen = new Set<string>();
    for (const entry of index.manifests) {
      if (entry.mediaType !== MEDIA_TYPES.imageManifest && entry.mediaType !== MEDIA_TYPES.imageIndex) continue;
      if (seen.has(entry.digest) || entry.digest === subject.digest) continue;
      seen.add(entry.digest);
      if (entry.annotations?.[REF_NAME] !== undefined) continue;
      const manifest = await this.tryParseManifest(entry);
      if (manifest?.subject?.digest === subject.digest) found.set(entry.digest, referrerDescriptor(entry, manifest));
    }
    // 2. the tag-schema fallback index `sha256-<hex>` (written by cosign/ORAS against registries without the API)
    const schemaEntry = index.manifests.findLast(
      (d) => d.annotations?.[REF_NAME] === this.refPrefix + referrersTagFor(subject.digest),
    );
    if (schemaEntry && isIndexMediaType(schemaEntry.mediaType)) {
      const fallback = (await this.tryParseManifest(schemaEntry)) as ImageIndex | undefined;
      for (const d of fallback?.manifests ?? []) if (!found.has(d.digest)) found.set(d.digest, d);
    }
    return [...found.values()].filter((d) => artifactType === undefined || d.artifactType === artifactType);
  }

  private async tryParseManifest(
    descriptor: Descriptor,
  ): Promise<
    { subject?: Descriptor; artifactType?: string; config?: Descriptor; manifests?: Descriptor[] } | undefined
  > {
    try {
      const { bytes } = await this.fetchManifest(descriptor);
      return safeJson(bytes) as { subject?: Descriptor } | undefined;
    } catch {
      return undefined;
    }
  }

  // ---- Target -------------------------------------------------------------------------------------------------------

  async pushBlob(descriptor: Descriptor, content: Readable | Uint8Array, options: PushBlobOptions = {}): Promise<void> {
    parseDigest(descriptor.digest);
    // the source may fail while we stat and create files: keep that error for the pipeline below
    if (!(content instanceof Uint8Array)) content.on('error', ignore);
    if (await this.exists(descriptor)) {
      if (!(content instanceof Uint8Array)) content.destroy();
      return;
    }
    await this.initialise();
    const ingest = join(this.root, 'ingest');
    const tmp = join(ingest, `${digestHex(descriptor.digest)}.${process.pid}.${randomBytes(6).toString('hex')}`);
    const untrack = trackTemp(tmp);
    try {
      if (content instanceof Uint8Array) {
        verifyBytes(descriptor, content);
        await writeSynced(tmp, content);
      } else {
        // open before streaming, so the temp file exists (and is removed below) however early the stream fails
        const handle = await open(tmp, 'wx', 0o644);
        try {
          // A stream that verifies itself (a registry's or a layout's fetchBlob) is not hashed twice: it ends
          // only when its digest matched, and pipeline() rejects (nothing is renamed) when it errors instead.
          const verifier = isVerifiedStream(content, descriptor) ? undefined : new DigestVerifier(descriptor);
          const sink = new DurableSink(handle, options.onProgress);
          if (verifier) await pipeline(content, verifier, sink);
          else await pipeline(content, sink);
          if (sink.bytes !== descriptor.size) {
            throw verificationFailed(descriptor, `${sink.bytes} bytes instead of ${descriptor.size}`);
          }
          await sink.durable();
        } finally {
          await handle.close();
        }
      }
      await rename(tmp, this.blobPath(descriptor.digest));
      this.renamed = true;
    } catch (err) {
      await rm(tmp, { force: true }).catch(() => undefined);
      // file-system failures become FS003; a failing source (network reset, RG101) keeps its own error
      if (isErrno(err)) throw fsError(err, this.blobPath(descriptor.digest), 'write');
      throw err;
    } finally {
      untrack();
    }
  }

  /**
   * Stores a stream whose digest is not known yet (pack reads each file once this way): hashes while writing to
   * ingest/, then renames to the digest's path. Returns the digest and size.
   */
  async ingest(content: Readable): Promise<{ digest: Digest; size: number }> {
    await this.initialise();
    const tmp = join(this.root, 'ingest', `stream.${process.pid}.${randomBytes(6).toString('hex')}`);
    const untrack = trackTemp(tmp);
    const hash = createHash('sha256');
    let size = 0;
    const hasher = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        hash.update(chunk);
        size += chunk.length;
        callback(null, chunk);
      },
    });
    try {
      const handle = await open(tmp, 'wx', 0o644);
      let digest: Digest;
      let known: boolean;
      try {
        const sink = new DurableSink(handle);
        await pipeline(content, hasher, sink);
        digest = `sha256:${hash.digest('hex')}`;
        known = await this.exists({ mediaType: '', digest, size });
        if (!known) await sink.durable();
      } finally {
        await handle.close();
      }
      if (known) {
        await rm(tmp, { force: true });
      } else {
        await rename(tmp, this.blobPath(digest));
        this.renamed = true;
      }
      return { digest, size };
    } catch (err) {
      await rm(tmp, { force: true }).catch(() => undefined);
      if (isErrno(err)) throw fsError(err, tmp, 'write');
      throw err;
    } finally {
      untrack();
    }
  }

  /** When `tag` pointed at another manifest before, the move is recorded in `moves` (under the index lock). */
  async pushManifest(descriptor: Descriptor, bytes: Uint8Array, tag?: string): Promise<void> {
    if (bytes.length > MAX_MANIFEST_BYTES) throw tooLarge(descriptor.digest, bytes.length);
    if (tag !== undefined) assertTag(tag);
    verifyBytes(descriptor, bytes);
    const parsed = safeJson(bytes) as { mediaType?: unknown; subject?: Descriptor; artifactType?: string } | undefined;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new AionError('RG011', `manifest ${descriptor.digest} is not a JSON object`);
    }
    if (parsed.mediaType !== undefined && parsed.mediaType !== descriptor.mediaType) {
      throw new AionError(
        'RG011',
        `manifest ${descriptor.digest} says mediaType ${String(parsed.mediaType)} but was described as ${descriptor.mediaType}`,
      );
    }
    await this.pushBlob(descriptor, bytes);
    const subject = parsed.subject;
    if (tag === undefined && subject === undefined) return;
    const entry = plainDescriptor(descriptor);
    if (parsed.artifactType !== undefined) entry.artifactType = parsed.artifactType;
    let previous: Descriptor | undefined;
    await this.updateIndex((index) => {
      if (
        subject !== undefined &&
        !index.manifests.some((d) => d.digest === entry.digest && !d.annotations?.[REF_NAME])
      )
        index.manifests.push({ ...entry });
      if (tag !== undefined) previous = setTag(index, entry, this.refPrefix + tag);
    });
    this.recordMove(tag, previous, entry);
  }

  /** When `tag` pointed at another manifest before, the move is recorded in `moves` (under the index lock). */
  async tag(descriptor: Descriptor, tag: string): Promise<void> {
    assertTag(tag);
    if (!(await this.exists(descriptor))) throw notFound(descriptor.digest, this.name);
    const entry = plainDescriptor(descriptor);
    let previous: Descriptor | undefined;
    await this.updateIndex((index) => {
      previous = setTag(index, entry, this.refPrefix + tag);
    });
    this.recordMove(tag, previous, entry);
  }

  private recordMove(tag: string | undefined, from: Descriptor | undefined, to: Descriptor): void {
    if (tag === undefined || from === undefined || from.digest === to.digest) return;
    this.moves.push({ tag, from: plainDescriptor(from), to });
  }

  /** Removes a tag (the blobs stay; they may be shared). */
  async untag(tag: string): Promise<boolean> {
    let removed = false;
    await this.updateIndex((index) => {
      const before = index.manifests.length;
      index.manifests = index.manifests.filter((d) => d.annotations?.[REF_NAME] !== this.refPrefix + tag);
      removed = index.manifests.length !== before;
    });
    return removed;
  }
}

type Lockfile = Pick<typeof import('proper-lockfile'), 'lock'>;
let lockfileModule: Promise<Lockfile> | undefined;

/**
 * proper-lockfile, loaded on first use: reading a layout (push from one, inspect) never locks, and it pulls in
 * graceful-fs (tens of ms). Writers start the load when they first write, so the final index change need not wait.
 */
function loadLockfile(): Promise<Lockfile> {
  lockfileModule ??= import('proper-lockfile').then(
    (m) => m.default,
    (err: unknown) => {
      lockfileModule = undefined;
      throw err;
    },
  );
  return lockfileModule;
}

function ignore(): void {
  // see the callers: errors are observed through pipeline()
}

function isErrno(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return !(err instanceof AionError) && typeof code === 'string' && /^E[A-Z]+$/.test(code);
}

function emptyIndex(): ImageIndex {
  return { schemaVersion: 2, mediaType: MEDIA_TYPES.imageIndex, manifests: [] };
}

/** Points `refName` at `descriptor`; returns the entry it pointed at before (the last one, as resolve reads). */
function setTag(index: ImageIndex, descriptor: Descriptor, refName: string): Descriptor | undefined {
  const previous = index.manifests.findLast((d) => d.annotations?.[REF_NAME] === refName);
  index.manifests = index.manifests.filter((d) => d.annotations?.[REF_NAME] !== refName);
  index.manifests.push({ ...descriptor, annotations: { [REF_NAME]: refName } });
  return previous;
}

/** mediaType, digest, size (+ artifactType): what callers get back, without index.json's ref.name. */
function plainDescriptor(d: Descriptor): Descriptor {
  const out: Descriptor = { mediaType: d.mediaType, digest: d.digest, size: d.size };
  if (d.artifactType !== undefined) out.artifactType = d.artifactType;
  return out;
}

function referrerDescriptor(
  entry: Descriptor,
  manifest: { artifactType?: string; config?: Descriptor; annotations?: Record<string, string> },
): Descriptor {
  const out = plainDescriptor(entry);
  const artifactType = manifest.artifactType ?? manifest.config?.mediaType;
  if (artifactType !== undefined) out.artifactType = artifactType;
  if (manifest.annotations !== undefined) out.annotations = manifest.annotations;
  return out;
}

function safeJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    return undefined;
  }
}

async function readSmall(path: string, where: string, digest: string): Promise<Uint8Array> {
  try {
    const info = await stat(path);
    if (info.size > MAX_MANIFEST_BYTES) throw tooLarge(digest, info.size);
    return await readFile(path);
  } catch (err) {
    if (err instanceof AionError) throw err;
    throw notFound(digest, where, err, 'RG003');
  }
}

/** fsync a closed file, so the rename that follows never exposes a truncated blob after a crash. */
export async function syncFile(path: string): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Reads of blob files: large enough that per-read overhead is noise, small enough to keep memory flat. */
const READ_CHUNK = 2 * 1024 * 1024;
/** Bytes written between background flushes of a blob being ingested (see DurableSink). */
export const FLUSH_EVERY = 32 * 1024 * 1024;

/**
 * The write end of a blob being ingested, on an open handle (the caller closes it). It makes the final fsync
 * cheap: every FLUSH_EVERY bytes it starts a background fdatasync of what was written so far (one at a time,
 * never awaited by the transfer), so the disk writes back while the network still delivers. `durable()` waits
 * for that flush and fsyncs the rest: only after it resolves may the file be renamed into place.
 */
class DurableSink extends Writable {
  bytes = 0;
  private sinceFlush = 0;
  private flushing: Promise<void> | undefined;
  private flushError: unknown;

  constructor(
    private readonly handle: FileHandle,
    private readonly onProgress?: (written: number) => void,
  ) {
    super({ highWaterMark: READ_CHUNK });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.writeAll([chunk]).then(() => callback(), callback);
  }

  override _writev(
    chunks: { chunk: Buffer; encoding: BufferEncoding }[],
    callback: (error?: Error | null) => void,
  ): void {
    this.writeAll(chunks.map((c) => c.chunk)).then(() => callback(), callback);
  }

  private async writeAll(buffers: Buffer[]): Promise<void> {
    let pending = buffers;
    let total = 0;
    for (const b of buffers) total += b.length;
    while (total > 0) {
      const { bytesWritten } = await this.handle.writev(pending);
      total -= bytesWritten;
      if (total === 0) break;
      // a short write: go on from where it stopped
      let skip = bytesWritten;
      const rest: Buffer[] = [];
      for (const b of pending) {
        if (skip >= b.length) skip -= b.length;
        else {
          rest.push(skip > 0 ? b.subarray(skip) : b);
          skip = 0;
        }
      }
      pending = rest;
    }
    let written = 0;
    for (const b of buffers) written += b.length;
    this.bytes += written;
    this.sinceFlush += written;
    this.onProgress?.(this.bytes);
    if (this.sinceFlush >= FLUSH_EVERY && !this.flushing) {
      this.sinceFlush = 0;
      this.flushing = this.handle.datasync().then(
        () => {
          this.flushing = undefined;
        },
        (err: unknown) => {
          this.flushing = undefined;
          this.flushError ??= err;
        },
      );
    }
  }

  /** Waits for a background flush, then fsyncs the file (data and size). Throws what a flush hit. */
  async durable(): Promise<void> {
    await this.flushing;
    if (this.flushError) throw this.flushError;
    await this.handle.sync();
  }
}

/** fsync a directory, so the renames into it survive a crash (best effort where directories cannot be synced). */
async function syncDirectory(path: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(path, 'r');
    await handle.sync();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EPERM' && code !== 'EBADF')
      throw fsError(err, path, 'write');
  } finally {
    await handle?.close();
  }
}

async function writeSynced(path: string, bytes: Uint8Array): Promise<void> {
  const handle = await open(path, 'wx', 0o644);
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** RG003 for a manifest, RG005 for a blob (the codes the registry client uses for the same situations). */
function notFound(digest: string, where: string, cause?: unknown, code: 'RG003' | 'RG005' = 'RG005'): AionError {
  return new AionError(code, `${digest} not found in ${where}`, {
    cause,
    hint: 'the layout is incomplete; copy the artifact into it again',
  });
}

function tooLarge(digest: string, size: number): AionError {
  return new AionError('RG010', `manifest ${digest} is ${size} bytes, over the ${MAX_MANIFEST_BYTES}-byte limit`, {
    hint: 'registries are only required to accept manifests up to 4 MiB',
  });
}

/** RG030: reading from a directory that holds no OCI image layout. */
export function noLayout(root: string): AionError {
  return new AionError('RG030', `there is no OCI image layout at ${root}`, {
    hint: 'check the path; pack --output oci:PATH, push or copy to oci:PATH create one',
  });
}
