/**
 * The verified-digest cache: one file per (artifact digest, trusted key fingerprints, expected identity) under
 * `resolvePaths().cache/verified`. A hit only ever applies to the exact digest that was verified (the digest is
 * recomputed from the fetched manifest bytes on every check) with the exact same keys and identity, and the entry
 * must name them again inside the file: a file renamed into place, corrupted or written for other keys is a miss.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureDir, writeFileAtomic } from '../fs/index.js';

export interface CacheEntry {
  digest: string;
  fingerprints: string[];
  identity: string;
  signer: string;
  verifiedAt: string;
}

export interface VerifiedCache {
  get(digest: string, fingerprints: string[], identity: string): Promise<CacheEntry | undefined>;
  put(entry: Omit<CacheEntry, 'verifiedAt'>): Promise<void>;
}

/** The file name of an entry (exported for tests that forge entries). */
export function cacheKey(digest: string, fingerprints: string[], identity: string): string {
  return createHash('sha256')
    .update(JSON.stringify([digest, [...fingerprints].sort(), identity]))
    .digest('hex');
}

export function openVerifiedCache(cacheDir: string): VerifiedCache {
  const dir = join(cacheDir, 'verified');
  return {
    async get(digest, fingerprints, identity) {
      let entry: CacheEntry;
      try {
        entry = JSON.parse(await readFile(join(dir, cacheKey(digest, fingerprints, identity)), 'utf8')) as CacheEntry;
      } catch {
        return undefined;
      }
      const same =
        entry?.digest === digest &&
        entry.identity === identity &&
        JSON.stringify([...(entry.fingerprints ?? [])].sort()) === JSON.stringify([...fingerprints].sort());
      return same ? entry : undefined;
    },
    async put(entry) {
      await ensureDir(dir, 0o700);
      const full: CacheEntry = {
        ...entry,
        fingerprints: [...entry.fingerprints].sort(),
        verifiedAt: new Date().toISOString(),
      };
      await writeFileAtomic(
        join(dir, cacheKey(entry.digest, entry.fingerprints, entry.identity)),
        JSON.stringify(full),
        {
          mode: 0o600,
          fsync: false,
        },
      );
    },
  };
}
