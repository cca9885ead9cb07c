/**
 * One repository on an OCI registry as a `Target` (the same interface the layout and store implement, so the
 * copy engine moves artifacts between any two). Follows distribution-spec 1.1 and the quirks of distribution 2.8
 * recorded in shared/research/oci.md: explicit OCI Accept list, Location used verbatim (absolute with `_state`),
 * Content-Type equal to the manifest's mediaType, no referrers API (tag-schema fallback), tag list unsorted.
 */
import { createHash } from 'node:crypto';
import { addAbortSignal, Readable } from 'node:stream';
import { AionError } from '../../errors/index.js';
import { parseDigest, sha256, verifyBytes } from '../digest.js';
import { isIndexMediaType, isManifestMediaType } from '../layout.js';
import { MAX_MANIFEST_BYTES, referrersTagFor } from '../names.js';
import { type RegistryReference, registryBaseUrl } from '../reference.js';
import {
  type Descriptor,
  type FetchedManifest,
  type ImageIndex,
  MEDIA_TYPES,
  type ReadOptions,
  type Target,
} from '../types.js';
import { parseNextLink } from './challenge.js';
import { DEFAULT_CHUNK_SIZE, DEFAULT_MONOLITHIC_MAX } from './defaults.js';
import { type RegistryErrorContext, registryError } from './errors.js';
import { type HttpRequest, type HttpResponse, networkError, type RegistryHttp } from './http.js';

/** Every manifest type we can handle, OCI first (distribution 2.8 answers 404 to a GET without the OCI types). */
export const MANIFEST_ACCEPT = [
  MEDIA_TYPES.imageManifest,
  MEDIA_TYPES.imageIndex,
  MEDIA_TYPES.dockerManifest,
  MEDIA_TYPES.dockerManifestList,
].join(', ');

const ZERO_DIGEST = `sha256:${'0'.repeat(64)}`;

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

async function readLimited(response: HttpResponse, limit: number, what: string): Promise<Buffer> {
  const declared = Number(response.headers['content-length'] ?? Number.NaN);
  if (declared > limit) {
    await response.body.dump();
    throw new AionError('RG010', `${what} is ${declared} bytes, over the ${limit}-byte limit`, {
      hint: 'manifests over 4 MiB are refused (distribution-spec); this is not an aionctl package manifest',
    });
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of response.body) {
    total += (chunk as Buffer).length;
    if (total > limit) {
      response.body.destroy();
      throw new AionError('RG010', `${what} is over the ${limit}-byte limit`, {
        hint: 'manifests over 4 MiB are refused (distribution-spec)',
      });
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
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
  ): Promise<{ response: HttpResponse; bytes: Buffer }> {
    for (let attempt = 0; ; attempt++) {
      const response = await this.send({ ...req, method: 'GET' });
      if (response.status !== 200) await this.fail(response, ctx);
      try {
        return { response, bytes: await readLimited(response, limit, what) };
      } catch (err) {
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
      throw new AionError('RG009', `${this.name} says ${reference} has digest ${digest}`, {
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
        `manifest ${selector} from ${this.name}: Docker-Content-Digest ${headerDigest} but the body hashes to ${digest}`,
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
      throw new AionError('RG011', `manifest ${selector}: Content-Type ${contentType} but mediaType ${bodyType}`, {
        hint: 'the registry served an inconsistent manifest; refusing it',
      });
    }
    const mediaType = bodyType ?? contentType;
    if (!mediaType || !isManifestMediaType(mediaType)) {
      throw new AionError('RG011', `manifest ${selector} has unsupported media type ${mediaType ?? '(none)'}`, {
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
        `${this.name} stored manifest ${reference} as ${returned}, not ${descriptor.digest}`,
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
    const first = await this.send({ method: 'GET', url });
    if (first.status !== 200) await this.fail(first, this.ctx(`fetch blob ${descriptor.digest} from`, 'blob'));
    // Bound up front: the generator below is a plain function with its own `this`.
    const send = this.send.bind(this);
    const fail = this.fail.bind(this);
    const ctx = this.ctx.bind(this);
    const name = this.name;
    const hash = createHash('sha256');
    const mismatch = (what: string) =>
      new AionError('RG009', `content of ${descriptor.digest} failed verification: ${what}`, {
        hint: 'the registry or a proxy served corrupt or tampered content; nothing was stored',
        details: { digest: descriptor.digest, size: descriptor.size },
      });
    // Verified inline (not through an extra Transform stage): every byte is hashed before it is passed on, and the
    // stream errors at the end unless size and digest match.
    async function* bytes(): AsyncGenerator<Buffer> {
      let response: HttpResponse | undefined = first;
      let passed = 0;
      let resumes = 0;
      while (true) {
        if (!response) {
          response = await send({ method: 'GET', url, headers: { range: `bytes=${passed}-` } });
          if (response.status !== 206 && response.status !== 200) {
            await fail(response, ctx(`resume blob ${descriptor.digest} from`, 'blob'));
          }
        }
        let skip = response.status === 200 ? passed : 0;
        try {
          for await (const raw of response.body) {
            let chunk = raw as Buffer;
            if (skip > 0) {
              const dropped = Math.min(skip, chunk.length);
              chunk = chunk.subarray(dropped);
              skip -= dropped;
              if (chunk.length === 0) continue;
            }
            passed += chunk.length;
            if (passed > descriptor.size) throw mismatch(`more than the expected ${descriptor.size} bytes`);
            hash.update(chunk);
            yield chunk;
          }
          if (passed !== descriptor.size) throw mismatch(`${passed} bytes instead of ${descriptor.size}`);
          const actual = `sha256:${hash.digest('hex')}`;
          if (actual !== descriptor.digest) throw mismatch(`content hashes to ${actual}`);
          return;
        } catch (err) {
          response.body.destroy();
          if (err instanceof AionError) throw err; // a verification failure is final: never resume past it
          response = undefined;
          if (passed >= descriptor.size || resumes >= 5) {
            throw new AionError('NE006', `download of ${descriptor.digest} from ${name} was interrupted`, {
              cause: err,
              hint: 'retry; nothing was stored',
            });
          }
          resumes++;
        }
      }
    }
    const stream = Readable.from(bytes(), { objectMode: false, highWaterMark: 1024 * 1024 });
    return options.signal ? addAbortSignal(options.signal, stream) : stream;
  }

  async pushBlob(descriptor: Descriptor, content: Readable | Uint8Array): Promise<void> {
    parseDigest(descriptor.digest);
    if (await this.exists(descriptor)) {
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
        await this.chunkedUpload(location.url, location.minChunk, descriptor, content);
      }
    } catch (err) {
      if (typeof location === 'object') await this.cancelUpload(location.url);
      throw err;
    }
  }

  /** POST (or mount) an upload session. undefined when a cross-repo mount made the upload unnecessary. */
  private async startUpload(descriptor: Descriptor): Promise<{ url: string; minChunk: number } | undefined> {
    for (const from of this.options.mountFrom ?? []) {
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
      },
      true,
    );
    if (response.status !== 201) await this.fail(response, this.ctx(`upload ${descriptor.digest} to`, 'upload'));
    await response.body.dump();
    return undefined;
  }

  private async chunkedUpload(start: string, minChunk: number, descriptor: Descriptor, content: Readable) {
    const chunkSize = Math.max(this.options.chunkSize ?? DEFAULT_CHUNK_SIZE, minChunk);
    const reader = new ChunkReader(content as AsyncIterable<Buffer>);
    const hash = createHash('sha256');
    let location = start;
    let offset = 0;
    while (offset < descriptor.size) {
      const length = Math.min(chunkSize, descriptor.size - offset);
      const start = offset;
      let used = false;
      // Each chunk streams straight from the source (memory stays flat whatever the chunk size); a stream cannot be
      // replayed, so a chunk that fails in flight ends the push with a clear error instead of a silent retry.
      const body = (): Readable => {
        if (used) {
          throw new AionError('RG012', `a chunk of ${descriptor.digest} failed in flight and cannot be resent`, {
            hint: 'retry the push; a smaller --chunk-size keeps the lost work small',
          });
        }
        used = true;
        return Readable.from(
          (async function* () {
            let sent = 0;
            for await (const piece of reader.take(length)) {
              hash.update(piece);
              sent += piece.length;
              yield piece;
            }
            if (sent !== length) {
              throw new AionError('RG009', `content of ${descriptor.digest} ended after ${start + sent} bytes`, {
                hint: 'the source is truncated; nothing was committed',
              });
            }
          })(),
        );
      };
      const response = await this.send(
        {
          method: 'PATCH',
          url: location,
          headers: {
            'content-type': 'application/octet-stream',
            'content-range': `${start}-${start + length - 1}`,
            'content-length': String(length),
          },
          body,
        },
        true,
      );
      if (response.status !== 202 || !response.headers.location) {
        await this.fail(response, this.ctx(`upload chunk of ${descriptor.digest} to`, 'upload'));
      }
      await response.body.dump();
      location = new URL(response.headers.location as string, response.url).toString();
      offset += length;
    }
    const extra = await reader.read(1);
    const actual = `sha256:${hash.digest('hex')}`;
    if (offset !== descriptor.size || extra.length > 0 || actual !== descriptor.digest) {
      // verifyBytes-style message without buffering: the source did not deliver what the descriptor promised.
      throw new AionError('RG009', `content of ${descriptor.digest} failed verification while uploading`, {
        hint: 'the source is corrupt or changed during the push; nothing was committed',
        details: { digest: descriptor.digest, size: descriptor.size },
      });
    }
    const response = await this.send(
      { method: 'PUT', url: withDigest(location, descriptor.digest), body: new Uint8Array(0) },
      true,
    );
    if (response.status !== 201) await this.fail(response, this.ctx(`commit ${descriptor.digest} to`, 'upload'));
    await response.body.dump();
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
    let url: string | undefined = `${this.base}/tags/list?n=1000`;
    for (let page = 0; url && page < 10_000; page++) {
      const { response, bytes } = await this.getSmall(
        { url },
        64 * 1024 * 1024,
        'tag list',
        this.ctx('list tags of', 'repository'),
      );
      let body: { tags?: string[] | null };
      try {
        body = JSON.parse(bytes.toString('utf8')) as typeof body;
      } catch (err) {
        throw new AionError('RG015', `the tag list of ${this.name} is not valid JSON`, {
          cause: err,
          hint: 'the registry (or a proxy in front of it) answered with something else; rerun with --debug',
        });
      }
      tags.push(...(body.tags ?? []));
      url = parseNextLink(response.headers.link, response.url);
    }
    return tags;
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
      while (url) {
        const response = await this.send({ method: 'GET', url });
        if (response.status !== 200) await this.fail(response, this.ctx('list referrers in'));
        const index = JSON.parse(
          (await readLimited(response, MAX_MANIFEST_BYTES, 'referrers')).toString(),
        ) as ImageIndex;
        out.push(...(index.manifests ?? []).filter(matches));
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
    return (await readLimited(response, 64 * 1024, 'error body')).toString('utf8');
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
