import type { CacheStats } from './types.js';

interface Entry<V> {
  value: V;
  bytes: number;
  expires: number;
  tags: readonly string[];
}

/**
 * A least-recently-used cache bounded by bytes (each entry says its size), with optional per-entry TTL and tags
 * (e.g. the files an entry was derived from) so an invalidation drops exactly the affected entries.
 */
export class LruCache<V> {
  private readonly map = new Map<string, Entry<V>>();
  private total = 0;
  hits = 0;
  misses = 0;

  constructor(
    readonly name: string,
    readonly maxBytes: number,
    private readonly now: () => number = Date.now,
  ) {}

  get(key: string): V | undefined {
    const entry = this.map.get(key);
    if (!entry || (entry.expires > 0 && entry.expires <= this.now())) {
      if (entry) this.delete(key);
      this.misses++;
      return undefined;
    }
    // Re-insert: Map iteration order is the recency order.
    this.map.delete(key);
    this.map.set(key, entry);
    this.hits++;
    return entry.value;
  }

  peek(key: string): V | undefined {
    const entry = this.map.get(key);
    return entry && (entry.expires === 0 || entry.expires > this.now()) ? entry.value : undefined;
  }

  set(key: string, value: V, bytes: number, options: { ttlMs?: number; tags?: readonly string[] } = {}): void {
    this.delete(key);
    if (bytes > this.maxBytes) return; // never cache what alone exceeds the budget
    const expires = options.ttlMs ? this.now() + options.ttlMs : 0;
    this.map.set(key, { value, bytes, expires, tags: options.tags ?? [] });
    this.total += bytes;
    for (const [oldest, entry] of this.map) {
      if (this.total <= this.maxBytes) break;
      this.map.delete(oldest);
      this.total -= entry.bytes;
    }
  }

  delete(key: string): boolean {
    const entry = this.map.get(key);
    if (!entry) return false;
    this.map.delete(key);
    this.total -= entry.bytes;
    return true;
  }

  /** Drops every entry tagged with `tag`; returns the keys dropped. */
  dropTagged(tag: string): string[] {
    const dropped: string[] = [];
    for (const [key, entry] of this.map) if (entry.tags.includes(tag)) dropped.push(key);
    for (const key of dropped) this.delete(key);
    return dropped;
  }

  /** Drops every entry one of whose tags satisfies `match`; returns the keys dropped. */
  dropWhere(match: (tag: string) => boolean): string[] {
    const dropped: string[] = [];
    for (const [key, entry] of this.map) if (entry.tags.some(match)) dropped.push(key);
    for (const key of dropped) this.delete(key);
    return dropped;
  }

  clear(): string[] {
    const keys = [...this.map.keys()];
    this.map.clear();
    this.total = 0;
    return keys;
  }

  get size(): number {
    return this.map.size;
  }

  get bytes(): number {
    return this.total;
  }

  stats(): CacheStats {
    return {
      name: this.name,
      entries: this.map.size,
      bytes: this.total,
      maxBytes: this.maxBytes,
      hits: this.hits,
      misses: this.misses,
    };
  }
}
