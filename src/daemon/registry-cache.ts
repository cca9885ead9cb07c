/**
 * The daemon's registry cache, as a wrapper around a repository target (the install resolver and verify open their
 * repositories through it), bounded by bytes (LruCache):
 * - manifests by digest and small blobs (package configs, signature payloads, ≤ 64 KiB) by digest: immutable, kept
 *   until evicted (a blob is kept only once it was read whole and its sha256 matched);
 * - tag → descriptor: a short TTL (tags move);
 * - tag lists: a short TTL. ETag revalidation needs the registry to send an ETag on `tags/list`: docker-registry
 *   (distribution 2.8.2) sends one on manifests but none on tag lists, so the TTL is what bounds staleness there.
 * Verification results by (digest, key fingerprints, identity) live next to it (`verified`), filled by /v1/verify.
 */
import { Readable } from 'node:stream';
import type { Descriptor, FetchedManifest, ReadOptions, Target } from '../lib/oci/index.js';
import { LruCache } from '../lib/daemon/lru.js';
import { sha256 } from '../lib/oci/digest.js';
import { AionError } from '../lib/errors/index.js';
import type { CacheStats } from '../lib/daemon/types.js';

export interface RegistryCacheOptions {
  /** Byte budget over all four caches. */
  bytes: number;
  /** How long a tag list is reused (default 10 s). */
  tagListTtlMs?: number;
  /** How long a tag → digest answer is reused (default 30 s). */
  tagTtlMs?: number;
}

const SMALL_BLOB = 64 * 1024;
const DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

export class RegistryCache {
  /** repository → tag list. */
  readonly tagLists: LruCache<string[]>;
  /** repository:tag → descriptor. */
  readonly tags: LruCache<Descriptor>;
  /** repository@digest → manifest (digest-verified by the target when fetched). */
  readonly manifests: LruCache<FetchedManifest>;
  /** repository@digest → small blob bytes. */
  readonly blobs: LruCache<Buffer>;
  /** verification results by (digest, key fingerprints, identity). */
  readonly verified: LruCache<unknown>;
  private readonly tagListTtlMs: number;
  private readonly tagTtlMs: number;

  constructor(options: RegistryCacheOptions) {
    const fifth = Math.floor(options.bytes / 5);
    this.tagLists = new LruCache('registry-tag-lists', fifth);
    this.tags = new LruCache('registry-tags', fifth);
    this.manifests = new LruCache('registry-manifests', fifth);
    this.blobs = new LruCache('registry-blobs', fifth);
    this.verified = new LruCache('verification', fifth);
    this.tagListTtlMs = options.tagListTtlMs ?? 10_000;
    this.tagTtlMs = options.tagTtlMs ?? 30_000;
  }

  /** `target` with cached `tags`, `resolve` and `fetchManifest`; everything else goes straight to it. */
  wrap<T extends Target>(target: T, repository: string): T {
    const cached: Partial<Target> = {
      tags: async () => {
        const hit = this.tagLists.get(repository);
        if (hit) return [...hit];
        const tags = await target.tags();
        this.tagLists.set(repository, [...tags], 64 + tags.reduce((n, t) => n + t.length + 16, 0), {
          ttlMs: this.tagListTtlMs,
          tags: [repository],
        });
        return tags;
      },
      resolve: async (reference: string) => {
        if (DIGEST.test(reference)) {
          const m = this.manifests.get(`${repository}@${reference}`);
          return m ? m.descriptor : target.resolve(reference);
        }
        const key = `${repository}:${reference}`;
        const hit = this.tags.get(key);
        if (hit) return hit;
        const descriptor = await target.resolve(reference);
        this.rememberTag(key, repository, descriptor);
        return descriptor;
      },
      fetchManifest: async (reference: string | Descriptor) => {
        let digest: string | undefined;
        let tagKey: string | undefined;
        if (typeof reference !== 'string') digest = reference.digest;
        else if (DIGEST.test(reference)) digest = reference;
        else {
          tagKey = `${repository}:${reference}`;
          digest = this.tags.get(tagKey)?.digest;
        }
        if (digest) {
          const hit = this.manifests.get(`${repository}@${digest}`);
          if (hit) return hit;
        }
        const fetched = await target.fetchManifest(reference);
        if (tagKey) this.rememberTag(tagKey, repository, fetched.descriptor);
        this.manifests.set(`${repository}@${fetched.descriptor.digest}`, fetched, fetched.bytes.length + 256, {
          tags: [repository],
        });
        return fetched;
      },
      fetchBlob: async (descriptor: Descriptor, options?: ReadOptions) => {
        if (descriptor.size > SMALL_BLOB || !descriptor.digest.startsWith('sha256:'))
          return target.fetchBlob(descriptor, options);
        const key = `${repository}@${descriptor.digest}`;
        const hit = this.blobs.get(key);
        if (hit) return Readable.from([hit]);
        // The target's stream checks size and digest and errors on a mismatch; checked again before keeping it.
        const chunks: Buffer[] = [];
        let size = 0;
        for await (const chunk of await target.fetchBlob(descriptor, options)) {
          size += (chunk as Buffer).length;
          if (size > descriptor.size) break;
          chunks.push(chunk as Buffer);
        }
        const bytes = Buffer.concat(chunks);
        const actual = sha256(bytes);
        if (size !== descriptor.size || actual !== descriptor.digest)
          throw new AionError(
            'RG009',
            `content of ${descriptor.digest} failed verification: ${size} bytes, ${actual}`,
            {
              hint: 'the registry (or a proxy) served other bytes; nothing was used',
            },
          );
        this.blobs.set(key, bytes, bytes.length + 128, { tags: [repository] });
        return Readable.from([bytes]);
      },
    };
    return new Proxy(target, {
      get(t, property) {
        if (typeof property === 'string' && property in cached) return cached[property as keyof Target];
        const value = Reflect.get(t, property, t) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(t) : value;
      },
    });
  }

  private rememberTag(key: string, repository: string, descriptor: Descriptor): void {
    this.tags.set(key, descriptor, key.length + 256, { ttlMs: this.tagTtlMs, tags: [repository] });
  }

  /** Drops what may have moved (tag lists and tag answers); digests and verification results stay valid. */
  dropMutable(): string[] {
    return [...this.tagLists.clear(), ...this.tags.clear()];
  }

  stats(): CacheStats[] {
    return [
      this.tagLists.stats(),
      this.tags.stats(),
      this.manifests.stats(),
      this.blobs.stats(),
      this.verified.stats(),
    ];
  }
}
