/**
 * One repository on an OCI registry as a `Target` (the same interface the layout and store implement, so the
 * copy engine moves artifacts between any two). Follows distribution-spec 1.1 and the quirks of distribution 2.8
 * recorded in shared/research/oci.md: explicit OCI Accept list, Location used verbatim (absolute with `_state`),
 * Content-Type equal to the manifest's mediaType, no referrers API (tag-schema fallback), tag list unsorted.
 */
import { createHash, type Hash } from 'node:crypto';
import { addAbortSignal, Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { AionError } from '../../errors/index.js';
import { sanitizeForTerminal as clean } from '../../text/index.js';
import { isVerifiedStream, markVerified, parseDigest, sha256, verifyBytes } from '../digest.js';
import { isIndexMediaType, isManifestMediaType } from '../layout.js';
import { MAX_MANIFEST_BYTES, referrersTagFor } from '../names.js';
import { type RegistryReference, registryBaseUrl } from '../reference.js';
import {
  type Descriptor,
  type FetchedManifest,
  type ImageIndex,
  MEDIA_TYPES,
  type ReadOptions,
  type PushBlobOptions,
  type Target,
} from '../types.js';
import { parseNextLink } from './challenge.js';
import { DEFAULT_CHUNK_SIZE, DEFAULT_MONOLITHIC_MAX } from './defaults.js';
import { type RegistryErrorContext, registryError } from './errors.js';
import {
  deadlineError,
  type HttpRequest,
  type Deadline,
  type HttpResponse,
  MAX_ERROR_BYTES,
  networkError,
  RETRY_STATUS,
  type RegistryHttp,
  readCapped,
} from './http.js';

/** Every manifest type we can handle, OCI first (distribution 2.8 answers 404 to a GET without the OCI types). */
export const MANIFEST_ACCEPT = [
  MEDIA_TYPES.imageManifest,
  MEDIA_TYPES.imageIndex,
  MEDIA_TYPES.dockerManifest,
  MEDIA_TYPES.dockerManifestList,
].join(', ');

const ZERO_DIGEST = `sha256:${'0'.repeat(64)}`;
/** Paginated lists (tags, referrers) stop with RG041 after this many pages or at a repeated `next` link. */
export const MAX_PAGES = 1000;
/** One page of a tag list (n=1000 is asked for; registries that ignore n still fit tens of thousands of tags). */
export const MAX_LIST_PAGE_BYTES = 8 * 1024 * 1024;
export const MAX_TAGS = 1_000_000;
export const MAX_REFERRERS = 10_000;

function isDescriptor(value: unknown): boolean {
  const d = value as Partial<Descriptor> | null;
  return (
    typeof d === 'object' &&
    d !== null &&
    typeof d.digest === 'string' &&
    typeof d.mediaType === 'string' &&
    typeof d.size === 'number'
  );
}

export interface RegistryTargetOptions {
  /** Blobs up to this size go up in one PUT (buffered, so retryable); larger ones in PATCH chunks. */
  chunkThreshold?: number;
  /** Bytes per PATCH for chunked uploads (raised to the registry's OCI-Chunk-Min-Length). */
  chunkSize?: number;
  /** Repositories on the same registry that may hold the blobs already: tried as cross-repo mounts first. */
  mountFrom?: string[];
  /** 'push' asks for pull,push tokens up front (one token instead of two). */
  access?: 'pull' | 'push';
}

export { DEFAULT_CHUNK_SIZE, DEFAULT_MONOLITHIC_MAX } from './defaults.js';

function mediaTypeOf(header: string | undefined): string | undefined {
  return header?.split(';')[0]?.trim() || undefined;
}

function withDigest(location: string, digest: string): string {
  return `${location}${location.includes('?') ? '&' : '?'}digest=${encodeURIComponent(digest)}`;
}

/** A manifest body, refused (RG010) over `limit` bytes as the distribution-spec allows. */
function readManifestBody(response: HttpResponse, limit: number, what: string): Promise<Buffer> {
  return readCapped(response.body, response.headers['content-length'], limit, what, (size) =>
    size === undefined
      ? new AionError('RG010', `${what} is over the ${limit}-byte limit`, {
          hint: 'manifests over 4 MiB are refused (distribution-spec)',
        })
      : new AionError('RG010', `${what} is ${size} bytes, over the ${limit}-byte limit`, {
          hint: 'manifests over 4 MiB are refused (distribution-spec); this is not an aionctl package manifest',
        }),
  );
}

/** Reads up to `size` bytes from an async iterator of buffers, carrying the remainder over. */
class ChunkReader {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private done = false;
  private readonly iterator: AsyncIterator<Buffer>;

  constructor(source: AsyncIterable<Buffer>) {
    this.iterator = source[Symbol.asyncIterator]();
  }

  /** Yields the next `size` bytes piece by piece (nothing accumulated), keeping any overshoot for later. */
  async *take(size: number): AsyncGenerator<Buffer> {
    let left = size;
    while (left > 0) {
      let piece: Buffer | undefined = this.pending.shift();
      if (piece) this.pendingBytes -= piece.length;
      else {
        if (this.done) return;
        const next = await this.iterator.next();
        if (next.done) {
          this.done = true;
          return;
        }
        piece = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value);
      }
      if (piece.length > left) {
        this.pending.unshift(piece.subarray(left));
        this.pendingBytes += piece.length - left;
        piece = piece.subarray(0, left);
      }
      left -= piece.length;
      yield piece;
    }
  }

  async read(size: number): Promise<Buffer> {
    while (this.pendingBytes < size && !this.done) {
      const next = await this.iterator.next();
      if (next.done) this.done = true;
      else {
        const chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value);
        this.pending.push(chunk);
        this.pendingBytes += chunk.length;
      }
    }
    const all = Buffer.concat(this.pending);
    const out = all.subarray(0, size);
    const rest = all.subarray(size);
    this.pending = rest.length ? [rest] : [];
    this.pendingBytes = rest.length;
    return out;
  }
}

/** Resumes of one blob download before it fails with NE006. */
const MAX_RESUMES = 5;

/**
 * A blob download as a stream that verifies itself: every byte is hashed as it passes (no extra stage, no
 * re-buffering: the response body's chunks are handed on as they arrive, paused under backpressure), and the
 * stream errors with RG009 at the end unless size and digest match. A connection lost mid-body resumes with
 * `Range` (a registry that ignores Range answers 200: what was already passed on is skipped).
 */
class BlobDownload extends Readable {
  private body: HttpResponse['body'] | undefined;
  private passed = 0;
  private skip = 0;
  private resumes = 0;
  private readonly hash = createHash('sha256');

  constructor(
    first: HttpResponse,
    private readonly descriptor: Descriptor,
    private readonly how: {
      name: string;
      url: string;
      deadline: Deadline;
      resume: (from: number) => Promise<HttpResponse>;
    },
  ) {
    super({ highWaterMark: 1024 * 1024 });
    this.attach(first);
  }

  private mismatch(what: string): AionError {
    return new AionError('RG009', `content of ${this.descriptor.digest} failed verification: ${what}`, {
      hint: 'the registry or a proxy served corrupt or tampered content; nothing was stored',
      details: { digest: this.descriptor.digest, size: this.descriptor.size },
    });
  }

  private attach(response: HttpResponse): void {
    const body = response.body;
    this.body = body;
    this.skip = response.status === 200 ? this.passed : 0;
    body.on('data', (chunk: Buffer) => {
      if (body === this.body) this.onData(chunk);
    });
    body.once('end', () => {
      if (body === this.body) this.onEnd();
    });
    body.once('error', (err: Error) => {
      if (body === this.body) this.onError(err);
    });
  }

  private onData(raw: Buffer): void {
    let chunk = raw;
    if (this.skip > 0) {
      const dropped = Math.min(this.skip, chunk.length);
      chunk = chunk.subarray(dropped);
      this.skip -= dropped;
      if (chunk.length === 0) return;
    }
    this.passed += chunk.length;
    if (this.passed > this.descriptor.size) {
      this.destroy(this.mismatch(`more than the expected ${this.descriptor.size} bytes`));
      return;
    }
    this.hash.update(chunk);
    if (!this.push(chunk)) this.body?.pause();
  }

  private onEnd(): void {
    this.body = undefined;
    if (this.passed !== this.descriptor.size) {
      this.destroy(this.mismatch(`${this.passed} bytes instead of ${this.descriptor.size}`));
      return;
    }
    const actual = `sha256:${this.hash.digest('hex')}`;
    if (actual !== this.descriptor.digest) {
      this.destroy(this.mismatch(`content hashes to ${actual}`));
      return;
    }
    this.push(null);
  }

  private onError(err: Error): void {
    const body = this.body;
    this.body = undefined;
    body?.destroy();
    const { deadline, url } = this.how;
    if (err instanceof AionError) this.destroy(err);
    else if (deadline.expired) this.destroy(deadlineError(url, deadline.ms, err));
    else if (deadline.signal.aborted) this.destroy(err);
    else if (this.passed >= this.descriptor.size || this.resumes >= MAX_RESUMES) {
      this.destroy(
        new AionError('NE006', `download of ${this.descriptor.digest} from ${this.how.name} was interrupted`, {
          cause: err,
          hint: 'retry; nothing was stored',
        }),
      );
    } else {
      this.resumes++;
      this.how.resume(this.passed).then(
        (response) => {
          if (this.destroyed) response.body.destroy();
          else this.attach(response);
        },
        (resumeErr: unknown) => this.destroy(resumeErr as Error),
      );
    }
  }

  override _read(): void {
    this.body?.resume();
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    const body = this.body;
    this.body = undefined;
    body?.destroy();
    callback(err);
  }
}

export class RegistryTarget implements Target {
  readonly name: string;
  readonly reference: RegistryReference;
  private readonly http: RegistryHttp;
  private readonly base: string;
  private readonly options: RegistryTargetOptions;
  private referrersApi: Promise<boolean> | undefined;

  /** Releases the connection pool (commands call it when done). */
  close(): Promise<void> {
    return this.http.close();
  }

  constructor(reference: RegistryReference, http: RegistryHttp, options: RegistryTargetOptions = {}) {
    this.reference = reference;
    this.http = http;
    this.options = options;
    this.name = `${reference.registry}/${reference.repository}`;
    this.base = `${registryBaseUrl(reference)}/v2/${reference.repository}`;
  }

  private scopes(push: boolean, extra: string[] = []): string[] {
    const actions = push || this.options.access === 'push' ? 'pull,push' : 'pull';
    return [`repository:${this.reference.repository}:${actions}`, ...extra];
  }

  private ctx(action: string, notFound?: RegistryErrorContext['notFound']): RegistryErrorContext {
    return { action: `${action} ${this.name}`, host: this.reference.registry, ...(notFound ? { notFound } : {}) };
  }

  private async fail(response: HttpResponse, ctx: RegistryErrorContext): Promise<never> {
    const text = response.status === 404 || response.status >= 400 ? await safeText(response) : '';
    throw registryError(response.status, text, ctx);
  }

  private send(req: Omit<HttpRequest, 'scopes'> & { scopes?: string[] }, push = false): Promise<HttpResponse> {
    return this.http.send({ ...req, scopes: req.scopes ?? this.scopes(push) });
  }

  /** `GET /v2/` with credentials: proves the registry accepts them (login). RG006 when it does not. */
  async ping(): Promise<void> {
    const response = await this.http.send({
      method: 'GET',
      url: `${registryBaseUrl(this.reference)}/v2/`,
      scopes: [],
    });
    if (response.status !== 200)
      await this.fail(response, { action: `log in to ${this.reference.registry}`, host: this.reference.registry });
    await response.body.dump();
  }

  /**
   * GET a small document (manifest, tag page, referrers) and read its body; a connection that dies while the body
   * is read is retried like one that dies before the headers (send() only sees the latter).
   */
  private async getSmall(
    req: Omit<HttpRequest, 'scopes' | 'method'>,
    limit: number,
    what: string,
    ctx: RegistryErrorContext,
    kind: 'manifest' | 'list' = 'manifest',
  ): Promise<{ response: HttpResponse; bytes: Buffer }> {
    const deadline = this.http.deadline();
    for (let attempt = 0; ; attempt++) {
      const response = await this.send({ ...req, method: 'GET', deadline });
      if (response.status !== 200) await this.fail(response, ctx);
      try {
        const bytes =
          kind === 'manifest'
            ? await readManifestBody(response, limit, what)
            : await readCapped(response.body, response.headers['content-length'], limit, what);
        return { response, bytes };
      } catch (err) {
        if (deadline.expired) throw deadlineError(req.url, deadline.ms, err);
        if (err instanceof AionError || attempt >= 3) {
          if (err instanceof AionError) throw err;
          throw networkError(err, req.url);
        }
        await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
      }
    }
  }

  // ---- manifests ---------------------------------------------------------------------------------------------

  async resolve(reference: string): Promise<Descriptor> {
    const response = await this.send({
      method: 'HEAD',
      url: `${this.base}/manifests/${reference}`,
      headers: { accept: MANIFEST_ACCEPT },
    });
    if (response.status !== 200) {
      await response.body.dump();
      if (response.status === 404) {
        throw registryError(404, '', this.ctx(`resolve ${reference} in`, 'manifest'));
      }
      // HEAD has no body to explain itself: GET gives the registry's error message.
      return (await this.fetchManifest(reference)).descriptor;
    }
    await response.body.dump();
    const digest = response.headers['docker-content-digest'];
    const mediaType = mediaTypeOf(response.headers['content-type']);
    const size = Number(response.headers['content-length']);
    if (!digest || !mediaType || !Number.isFinite(size)) return (await this.fetchManifest(reference)).descriptor;
    parseDigest(digest);
    if (reference.startsWith('sha256:') && digest !== reference) {
      throw new AionError('RG009', `${this.name} says ${reference} has digest ${clean(digest)}`, {
        hint: 'the registry or a proxy is misbehaving; nothing was stored',
      });
    }
    return { mediaType, digest, size };
  }

  async fetchManifest(reference: string | Descriptor): Promise<FetchedManifest> {
    const selector = typeof reference === 'string' ? reference : reference.digest;
    const { response, bytes } = await this.getSmall(
      { url: `${this.base}/manifests/${selector}`, headers: { accept: MANIFEST_ACCEPT } },
      MAX_MANIFEST_BYTES,
      `manifest ${selector} from ${this.name}`,
      this.ctx(`fetch manifest ${selector} from`, 'manifest'),
    );
    const digest = sha256(bytes);
    const headerDigest = response.headers['docker-content-digest'];
    if (headerDigest && headerDigest !== digest) {
      throw new AionError(
        'RG009',
        `manifest ${selector} from ${this.name}: Docker-Content-Digest ${clean(headerDigest)} but the body hashes to ${digest}`,
        {
          hint: 'the registry or a proxy altered the manifest; nothing was stored',
        },
      );
    }
    if (typeof reference !== 'string') verifyBytes(reference, bytes);
    else if (reference.startsWith('sha256:') && reference !== digest) {
      verifyBytes({ mediaType: '', digest: reference, size: bytes.length }, bytes);
    }
    let parsed: { mediaType?: unknown; artifactType?: unknown };
    try {
      parsed = JSON.parse(bytes.toString('utf8')) as typeof parsed;
    } catch (err) {
      throw new AionError('RG011', `manifest ${selector} from ${this.name} is not valid JSON`, { cause: err });
    }
    const contentType = mediaTypeOf(response.headers['content-type']);
    const bodyType = typeof parsed.mediaType === 'string' ? parsed.mediaType : undefined;
    if (bodyType && contentType && bodyType !== contentType && contentType !== 'application/json') {
      throw new AionError(
        'RG011',
        `manifest ${selector}: Content-Type ${clean(contentType)} but mediaType ${clean(bodyType)}`,
        {
          hint: 'the registry served an inconsistent manifest; refusing it',
        },
      );
    }
    const mediaType = bodyType ?? contentType;
    if (!mediaType || !isManifestMediaType(mediaType)) {
      throw new AionError('RG011', `manifest ${selector} has unsupported media type ${clean(mediaType ?? '(none)')}`, {
        hint: 'aionctl handles OCI image manifests and indexes (and Docker v2 manifests)',
      });
    }
    const descriptor: Descriptor = { mediaType, digest, size: bytes.length };
    if (typeof parsed.artifactType === 'string') descriptor.artifactType = parsed.artifactType;
    return { descriptor, bytes: new Uint8Array(bytes) };
  }

  async pushManifest(descriptor: Descriptor, bytes: Uint8Array, tag?: string): Promise<void> {
    if (bytes.length > MAX_MANIFEST_BYTES) {
      throw new AionError('RG010', `manifest ${descriptor.digest} is ${bytes.length} bytes, over the 4 MiB limit`);
    }
    verifyBytes(descriptor, bytes);
    const reference = tag ?? descriptor.digest;
    const response = await this.send(
      {
        method: 'PUT',
        url: `${this.base}/manifests/${reference}`,
        headers: { 'content-type': descriptor.mediaType },
        body: bytes,
      },
      true,
    );
    if (response.status !== 201 && response.status !== 200) {
      await this.fail(response, this.ctx(`push manifest ${reference} to`, 'repository'));
    }
    await response.body.dump();
    const returned = response.headers['docker-content-digest'];
    if (returned && returned !== descriptor.digest) {
      throw new AionError(
        'RG009',
        `${this.name} stored manifest ${reference} as ${clean(returned)}, not ${descriptor.digest}`,
        {
          hint: 'the registry rewrote the manifest; it is not usable for signed artifacts',
        },
      );
    }
    const subject = (JSON.parse(Buffer.from(bytes).toString('utf8')) as { subject?: Descriptor }).subject;
    if (subject && !response.headers['oci-subject'] && !(await this.hasReferrersApi())) {
      await this.addToReferrersIndex(subject, descriptor, bytes);
    }
  }

  async tag(descriptor: Descriptor, tag: string): Promise<void> {
    const { bytes } = await this.fetchManifest(descriptor);
    const response = await this.send(
      {
        method: 'PUT',
        url: `${this.base}/manifests/${tag}`,
        headers: { 'content-type': descriptor.mediaType },
        body: bytes,
      },
      true,
    );
    if (response.status !== 201 && response.status !== 200) await this.fail(response, this.ctx(`tag ${tag} in`));
    await response.body.dump();
  }

  // ---- blobs ---------------------------------------------------------------------------------------------------

  async exists(descriptor: Descriptor): Promise<boolean> {
    const kind = isManifestMediaType(descriptor.mediaType) ? 'manifests' : 'blobs';
    const response = await this.send({
      method: 'HEAD',
      url: `${this.base}/${kind}/${descriptor.digest}`,
      ...(kind === 'manifests' ? { headers: { accept: MANIFEST_ACCEPT } } : {}),
    });
    await response.body.dump();
    if (response.status === 200) return true;
    if (response.status === 404) return false;
    return this.fail(response, this.ctx(`check ${descriptor.digest} in`));
  }

  /**
   * A verified stream of the blob. An interrupted download resumes with `Range` (or, when the registry ignores
   * Range, re-reads and skips what was already passed on); the stream errors with RG009 on a size or digest
   * mismatch, so a consumer that renames only after `finish` never keeps a corrupt blob.
   */
  async fetchBlob(descriptor: Descriptor, options: ReadOptions = {}): Promise<Readable> {
    options.signal?.throwIfAborted();
    parseDigest(descriptor.digest);
    const url = `${this.base}/blobs/${descriptor.digest}`;
    // One deadline for the whole transfer, resumes included: scaled to the declared size, so a registry that
    // trickles a byte every few seconds (never idle long enough to time out) still ends in bounded time.
    const deadline = this.http.deadline(descriptor.size);
    const first = await this.send({ method: 'GET', url, deadline });
    if (first.status !== 200) await this.fail(first, this.ctx(`fetch blob ${descriptor.digest} from`, 'blob'));
    const stream = markVerified(
      new BlobDownload(first, descriptor, {
        name: this.name,
        url,
        deadline,
        resume: async (from) => {
          const response = await this.send({ method: 'GET', url, headers: { range: `bytes=${from}-` }, deadline });
          if (response.status !== 206 && response.status !== 200) {
            await this.fail(response, this.ctx(`resume blob ${descriptor.digest} from`, 'blob'));
          }
          return response;
        },
      }),
      descriptor.digest,
    );
    // A small blob can fail verification before the caller attaches its pipeline: the error stays on the stream.
    stream.on('error', () => undefined);
    return options.signal ? addAbortSignal(options.signal, stream) : stream;
  }

  async pushBlob(descriptor: Descriptor, content: Readable | Uint8Array, options: PushBlobOptions = {}): Promise<void> {
    parseDigest(descriptor.digest);
    if (!options.checkedAbsent && (await this.exists(descriptor))) {
      if (!(content instanceof Uint8Array)) content.destroy();
      return;
    }
    let location = await this.startUpload(descriptor);
    if (location === undefined) {
      if (!(content instanceof Uint8Array)) content.destroy();
      return; // mounted
    }
    try {
      const threshold = this.options.chunkThreshold ?? DEFAULT_MONOLITHIC_MAX;
      if (content instanceof Uint8Array || descriptor.size <= threshold) {
        const bytes = content instanceof Uint8Array ? Buffer.from(content) : await readAll(content, descriptor);
        verifyBytes(descriptor, bytes);
        location = await this.putUpload(location, descriptor, bytes);
      } else {
        location = await this.chunkedUpload(location, descriptor, content, options.reopen, options.onProgress);
      }
    } catch (err) {
      if (typeof location === 'object') await this.cancelUpload(location.url);
      throw err;
    }
  }

  /** POST (or mount) an upload session. undefined when a cross-repo mount made the upload unnecessary. */
  private async startUpload(
    descriptor: Descriptor,
    mount = true,
  ): Promise<{ url: string; minChunk: number } | undefined> {
    for (const from of mount ? (this.options.mountFrom ?? []) : []) {
      if (from === this.reference.repository) continue;
      const url = `${this.base}/blobs/uploads/?mount=${encodeURIComponent(descriptor.digest)}&from=${encodeURIComponent(from)}`;
      const response = await this.send(
        { method: 'POST', url, scopes: this.scopes(true, [`repository:${from}:pull`]), body: new Uint8Array(0) },
        true,
      );
      await response.body.dump();
      if (response.status === 201) return undefined;
      if (response.status === 202 && response.headers.location) return this.session(response);
    }
    const response = await this.send(
      { method: 'POST', url: `${this.base}/blobs/uploads/`, body: new Uint8Array(0) },
      true,
    );
    await response.body.dump().catch(() => undefined);
    if (response.status !== 202 || !response.headers.location) {
      await this.fail(response, this.ctx('start upload to', 'repository'));
    }
    return this.session(response);
  }

  private session(response: HttpResponse): { url: string; minChunk: number } {
    // Location as returned (distribution: absolute with _state); relative ones resolve against the request URL.
    return {
      url: new URL(response.headers.location as string, response.url).toString(),
      minChunk: Number(response.headers['oci-chunk-min-length'] ?? 0) || 0,
    };
  }

  private async putUpload(location: { url: string }, descriptor: Descriptor, bytes: Uint8Array): Promise<undefined> {
    const response = await this.send(
      {
        method: 'PUT',
        url: withDigest(location.url, descriptor.digest),
        headers: { 'content-type': 'application/octet-stream' },
        body: bytes,
        deadline: this.http.deadline(bytes.length),
      },
      true,
    );
    if (response.status !== 201) await this.commitFailed(response, descriptor);
    await response.body.dump();
    return undefined;
  }

  /**
   * A commit (PUT) that did not answer 201 may still have landed (a proxy lost the answer, a retry then found the
   * session gone): the blob being there is success; anything else is the registry's error.
   */
  private async commitFailed(response: HttpResponse, descriptor: Descriptor): Promise<void> {
    const text = await safeText(response);
    if (response.status !== 400 && (await this.exists(descriptor).catch(() => false))) return;
    throw registryError(response.status, text, this.ctx(`upload ${descriptor.digest} to`, 'upload'));
  }

  /**
   * Where an upload session stands (`GET` the upload URL: 204 with `Range: 0-<last>` and a fresh Location).
   * undefined when the session is gone (expired, or the registry lost it): the blob then starts over.
   */
  private async uploadStatus(url: string): Promise<{ url: string; offset: number } | undefined> {
    const response = await this.send({ method: 'GET', url }, true);
    await response.body.dump().catch(() => undefined);
    if (response.status !== 204 && response.status !== 200) return undefined;
    const range = /^\s*(?:bytes=)?0-(\d+)\s*$/.exec(response.headers.range ?? '');
    // distribution says `0-0` for an empty session (and for one byte): a chunk is never one byte, so 0.
    const last = range ? Number(range[1]) : -1;
    const offset = last > 0 ? last + 1 : 0;
    const next = response.headers.location ? new URL(response.headers.location, response.url).toString() : url;
    return { url: next, offset };
  }

  /**
   * PATCH chunks streamed from the source (memory stays flat whatever the chunk size). A chunk that fails (5xx,
   * dropped connection) is not blindly re-sent: the registry is asked how far the upload got and the upload goes
   * on from there, reading the source again from its start (`reopen`) when bytes already taken from the stream
   * never arrived; a session the registry lost starts over. Each step gets the client's retry budget.
   */
  private async chunkedUpload(
    session: { url: string; minChunk: number },
    descriptor: Descriptor,
    content: Readable,
    reopen: (() => Promise<Readable>) | undefined,
    onProgress: ((sent: number) => void) | undefined,
  ): Promise<undefined> {
    const chunkSize = Math.max(this.options.chunkSize ?? DEFAULT_CHUNK_SIZE, session.minChunk);
    let stream = content;
    let reader = new ChunkReader(stream as AsyncIterable<Buffer>);
    // A source that verifies itself (a layout's fetchBlob, also after reopen) is not hashed here a second time:
    // reading it to its end (below, before the commit) raises its own RG009 when the bytes do not match.
    let hash: Hash | undefined = isVerifiedStream(stream, descriptor) ? undefined : createHash('sha256');
    /** Bytes taken from the current source stream (all hashed). */
    let consumed = 0;
    let location = session.url;
    let offset = 0;
    let failures = 0;
    const truncated = (at: number) =>
      new AionError('RG009', `content of ${descriptor.digest} ended after ${at} bytes`, {
        hint: 'the source is truncated; nothing was committed',
      });
    /** Puts the source at `offset`: the stream as it is, or a fresh one read (and hashed) up to there. */
    const seek = async (target: number): Promise<void> => {
      if (consumed === target) return;
      if (!reopen) {
        throw new AionError('RG043', `a chunk of ${descriptor.digest} failed in flight and cannot be resent`, {
          hint: 'retry the push; a smaller --chunk-size keeps the lost work small',
        });
      }
      stream.destroy();
      stream = await reopen();
      reader = new ChunkReader(stream as AsyncIterable<Buffer>);
      hash = isVerifiedStream(stream, descriptor) ? undefined : createHash('sha256');
      consumed = 0;
      for await (const piece of reader.take(target)) {
        hash?.update(piece);
        consumed += piece.length;
      }
      if (consumed !== target) throw truncated(consumed);
    };
    try {
      while (offset < descriptor.size) {
        await seek(offset);
        const start = offset;
        const length = Math.min(chunkSize, descriptor.size - start);
        let inflight: Readable | undefined;
        const body = (): Readable => {
          if (inflight) throw new AionError('RG043', 'internal: a streamed chunk was sent twice');
          const source = reader;
          const chunkHash = hash;
          inflight = Readable.from(
            (async function* () {
              let sent = 0;
              for await (const piece of source.take(length)) {
                chunkHash?.update(piece);
                consumed += piece.length;
                sent += piece.length;
                onProgress?.(consumed);
                yield piece;
              }
              if (sent !== length) throw truncated(start + sent);
            })(),
          );
          return inflight;
        };
        let response: HttpResponse | undefined;
        let failure: unknown;
        try {
          response = await this.send(
            {
              method: 'PATCH',
              url: location,
              headers: {
                'content-type': 'application/octet-stream',
                'content-range': `${start}-${start + length - 1}`,
                'content-length': String(length),
              },
              body,
              retry: false,
              deadline: this.http.deadline(length),
            },
            true,
          );
        } catch (err) {
          // The source's own failure (truncated, unreadable) and refusals are final; a lost connection is not.
          if (!(err instanceof AionError) || (err.code !== 'NE001' && err.code !== 'NE003')) throw err;
          failure = err;
        }
        if (response && response.status === 202 && response.headers.location) {
          await response.body.dump();
          location = new URL(response.headers.location, response.url).toString();
          offset += length;
          failures = 0;
          continue;
        }
        if (response && !RETRY_STATUS(response.status) && response.status !== 416) {
          await this.fail(response, this.ctx(`upload chunk of ${descriptor.digest} to`, 'upload'));
        }
        if (response) await response.body.dump().catch(() => undefined);
        // The chunk's stream may still be read after an early answer: stop it before counting what was taken.
        if (inflight) {
          inflight.destroy();
          await finished(inflight).catch(() => undefined);
        }
        if (++failures > this.http.retries) {
          throw new AionError(
            'RG043',
            `upload of ${descriptor.digest} to ${this.name} kept failing at byte ${start} (${response ? `status ${response.status}` : 'connection lost'})`,
            { cause: failure, hint: 'the registry or a proxy is failing; retry later' },
          );
        }
        await new Promise((resolve) => setTimeout(resolve, this.http.backoffMs(failures - 1)));
        const status = await this.uploadStatus(location);
        if (status && status.offset <= consumed) {
          location = status.url;
          offset = status.offset;
        } else {
          // The session is gone (or claims bytes never sent): start the blob over in a new one.
          await this.cancelUpload(location);
          const fresh = await this.startUpload(descriptor, false);
          if (!fresh) return undefined;
          location = fresh.url;
          offset = 0;
        }
      }
      await seek(descriptor.size);
      // reads the source to its end: a self-verifying one fails here (before the commit) on a mismatch
      const extra = await reader.read(1);
      const actual = hash ? `sha256:${hash.digest('hex')}` : descriptor.digest;
      if (consumed !== descriptor.size || extra.length > 0 || actual !== descriptor.digest) {
        // verifyBytes-style message without buffering: the source did not deliver what the descriptor promised.
        throw new AionError('RG009', `content of ${descriptor.digest} failed verification while uploading`, {
          hint: 'the source is corrupt or changed during the push; nothing was committed',
          details: { digest: descriptor.digest, size: descriptor.size },
        });
      }
    } finally {
      stream.destroy();
    }
    const response = await this.send(
      { method: 'PUT', url: withDigest(location, descriptor.digest), body: new Uint8Array(0) },
      true,
    );
    if (response.status !== 201) await this.commitFailed(response, descriptor);
    await response.body.dump();
    return undefined;
  }

  private async cancelUpload(url: string): Promise<void> {
    try {
      const response = await this.send({ method: 'DELETE', url }, true);
      await response.body.dump();
    } catch {
      // best effort: the registry purges abandoned uploads itself
    }
  }

  // ---- tags and referrers ----------------------------------------------------------------------------------------

  async tags(): Promise<string[]> {
    const tags: string[] = [];
    const seen = new Set<string>();
    let url: string | undefined = `${this.base}/tags/list?n=1000`;
    for (let page = 0; url; page++) {
      if (page >= MAX_PAGES || seen.has(url)) throw this.endless('tag list', page);
      seen.add(url);
      const { response, bytes } = await this.getSmall(
        { url },
        MAX_LIST_PAGE_BYTES,
        `a tag list page of ${this.name}`,
        this.ctx('list tags of', 'repository'),
        'list',
      );
      const list = this.parseList(bytes, 'tags', 'tag list');
      if (list !== null && !list.every((t) => typeof t === 'string')) throw this.malformed('tag list', 'tags');
      for (const tag of (list ?? []) as string[]) tags.push(tag);
      if (tags.length > MAX_TAGS) {
        throw new AionError('RG042', `${this.name} lists more than ${MAX_TAGS} tags`, {
          hint: 'refusing a tag list that large; use a digest or an exact tag',
        });
      }
      url = parseNextLink(response.headers.link, response.url);
    }
    return tags;
  }

  /** The array under `key` of a JSON page (null or absent: none); RG042 for anything else. */
  private parseList(bytes: Buffer, key: string, what: string): unknown[] | null {
    let body: unknown;
    try {
      body = JSON.parse(bytes.toString('utf8'));
    } catch (err) {
      throw new AionError('RG015', `the ${what} of ${this.name} is not valid JSON`, {
        cause: err,
        hint: 'the registry (or a proxy in front of it) answered with something else; rerun with --debug',
      });
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw this.malformed(what, key);
    const list = (body as Record<string, unknown>)[key];
    if (list === undefined || list === null) return null;
    if (!Array.isArray(list)) throw this.malformed(what, key);
    return list;
  }

  private malformed(what: string, key: string): AionError {
    return new AionError('RG042', `the ${what} of ${this.name} is malformed ("${key}" is not a list of entries)`, {
      hint: 'the registry (or a proxy in front of it) is broken or hostile; nothing was used',
    });
  }

  private endless(what: string, pages: number): AionError {
    return new AionError(
      'RG041',
      `the ${what} of ${this.name} does not end (${pages >= MAX_PAGES ? `over ${MAX_PAGES} pages` : 'a next link repeats'})`,
      { hint: 'the registry (or a proxy in front of it) is broken or hostile; stopped following it' },
    );
  }

  /** oras-go's pingReferrers: the referrers API exists when a zero digest gets 200 with an index content type. */
  hasReferrersApi(): Promise<boolean> {
    this.referrersApi ??= (async () => {
      const response = await this.send({ method: 'GET', url: `${this.base}/referrers/${ZERO_DIGEST}` });
      await response.body.dump();
      return response.status === 200 && mediaTypeOf(response.headers['content-type']) === MEDIA_TYPES.imageIndex;
    })();
    return this.referrersApi;
  }

  async referrers(subject: Descriptor, artifactType?: string): Promise<Descriptor[]> {
    const matches = (d: Descriptor) => artifactType === undefined || d.artifactType === artifactType;
    if (await this.hasReferrersApi()) {
      const out: Descriptor[] = [];
      let url: string | undefined =
        `${this.base}/referrers/${subject.digest}${artifactType ? `?artifactType=${encodeURIComponent(artifactType)}` : ''}`;
      const seen = new Set<string>();
      for (let page = 0; url; page++) {
        if (page >= MAX_PAGES || seen.has(url)) throw this.endless('referrers list', page);
        seen.add(url);
        const { response, bytes } = await this.getSmall(
          { url },
          MAX_MANIFEST_BYTES,
          `a referrers page of ${this.name}`,
          this.ctx('list referrers in'),
          'list',
        );
        const list = this.parseList(bytes, 'manifests', 'referrers list') ?? [];
        if (!list.every((d) => isDescriptor(d))) throw this.malformed('referrers list', 'manifests');
        for (const d of list as Descriptor[]) if (matches(d)) out.push(d);
        if (out.length > MAX_REFERRERS) {
          throw new AionError('RG042', `${this.name} lists more than ${MAX_REFERRERS} referrers of ${subject.digest}`, {
            hint: 'refusing a referrers list that large; anyone can attach referrers',
          });
        }
        url = parseNextLink(response.headers.link, response.url);
      }
      return out;
    }
    const index = await this.readReferrersIndex(subject);
    return (index?.manifests ?? []).filter(matches);
  }

  private async readReferrersIndex(subject: Descriptor): Promise<ImageIndex | undefined> {
    const tag = referrersTagFor(subject.digest);
    try {
      const { bytes, descriptor } = await this.fetchManifest(tag);
      if (!isIndexMediaType(descriptor.mediaType)) return undefined;
      return JSON.parse(Buffer.from(bytes).toString('utf8')) as ImageIndex;
    } catch (err) {
      if (err instanceof AionError && (err.code === 'RG003' || err.code === 'RG004')) return undefined;
      throw err;
    }
  }

  /** The distribution-spec tag-schema fallback: add the referrer to the `sha256-<hex>` index (read, merge, put). */
  private async addToReferrersIndex(subject: Descriptor, referrer: Descriptor, bytes: Uint8Array): Promise<void> {
    const index: ImageIndex = (await this.readReferrersIndex(subject)) ?? {
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.imageIndex,
      manifests: [],
    };
    if (index.manifests.some((d) => d.digest === referrer.digest)) return;
    const parsed = JSON.parse(Buffer.from(bytes).toString('utf8')) as {
      artifactType?: string;
      config?: Descriptor;
      annotations?: Record<string, string>;
    };
    const entry: Descriptor = { mediaType: referrer.mediaType, digest: referrer.digest, size: referrer.size };
    const artifactType = parsed.artifactType ?? parsed.config?.mediaType;
    if (artifactType) entry.artifactType = artifactType;
    if (parsed.annotations && Object.keys(parsed.annotations).length) entry.annotations = parsed.annotations;
    index.manifests.push(entry);
    const indexBytes = new Uint8Array(Buffer.from(JSON.stringify(index)));
    await this.pushManifest(
      { mediaType: MEDIA_TYPES.imageIndex, digest: sha256(indexBytes), size: indexBytes.length },
      indexBytes,
      referrersTagFor(subject.digest),
    );
  }
}

async function safeText(response: HttpResponse): Promise<string> {
  try {
    return (
      await readCapped(response.body, response.headers['content-length'], MAX_ERROR_BYTES, 'error body')
    ).toString('utf8');
  } catch {
    return '';
  }
}

/** Reads a small blob stream fully (only ever below the chunk threshold). */
async function readAll(content: Readable, descriptor: Descriptor): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of content) {
    total += (chunk as Buffer).length;
    chunks.push(chunk as Buffer);
    if (total > descriptor.size) break; // too long: verifyBytes reports it
  }
  return Buffer.concat(chunks);
}
