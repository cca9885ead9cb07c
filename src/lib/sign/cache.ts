/**
 * The verified-digest cache: one file per (artifact digest, trusted key fingerprints, expected identity) under
 * `paths.cache/verified`. A hit only ever applies to the exact digest that was verified (the digest is recomputed
 * from the fetched manifest bytes on every check) with the exact same keys and identity.
 *
 * Entries are authenticated: each carries an HMAC-SHA256 over its content with a per-user 32-byte key kept in
 * `paths.data/verified-cache.key` (0600). A file written into the cache directory by anyone without that key,
 * renamed, corrupted or made for other keys is a miss. The cache directory must be owned by the user and not
 * group/other writable, the key file owned by the user and private; otherwise the cache is not used (every
 * check verifies in full) and `problem` says why.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmod, lstat, open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureDir, readSmallFile, writeFileAtomic } from '../fs/index.js';

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
  /** Why the cache is not in use (unsafe directory or key), once known. */
  problem(): string | undefined;
}

export interface CacheLocation {
  cache: string;
  data: string;
}

export const CACHE_KEY_FILE = 'verified-cache.key';
/** An entry is a few hundred bytes; a bigger file is not one of ours and is not read (a miss). */
export const MAX_CACHE_ENTRY_BYTES = 64 * 1024;

/** The text of a file of at most `limit` bytes; undefined when missing, unreadable or bigger. */
/** The file name of an entry (exported for tests that forge entries). */
export function cacheKey(digest: string, fingerprints: string[], identity: string): string {
  return createHash('sha256')
    .update(JSON.stringify([digest, [...fingerprints].sort(), identity]))
    .digest('hex');
}

function mac(key: Buffer, entry: CacheEntry): string {
  const body = JSON.stringify([
    entry.digest,
    [...entry.fingerprints].sort(),
    entry.identity,
    entry.signer,
    entry.verifiedAt,
  ]);
  return createHmac('sha256', key).update(body).digest('hex');
}

function uidNow(): number | undefined {
  return typeof process.getuid === 'function' ? process.getuid() : undefined;
}

/** Why `path` is not private to `uid` (owner, and no write — or with `noRead` no access — for group/others). */
async function unsafe(path: string, uid: number | undefined, mask: number): Promise<string | undefined> {
  const st = await lstat(path);
  if (st.isSymbolicLink()) return `${path} is a symlink`;
  if (uid !== undefined && st.uid !== uid) return `${path} is owned by uid ${st.uid}, not ${uid}`;
  if (st.mode & mask) return `${path} has mode ${(st.mode & 0o777).toString(8)} (group/other access)`;
  return undefined;
}

/** Reads the per-user HMAC key, creating it (0600, exclusive create) on first use. */
async function loadKey(dataDir: string, uid: number | undefined): Promise<Buffer | string> {
  const path = join(dataDir, CACHE_KEY_FILE);
  try {
    await ensureDir(dataDir, 0o700);
    const handle = await open(path, 'wx', 0o600);
    try {
      await handle.chmod(0o600);
      await handle.writeFile(randomBytes(32));
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return `cannot create ${path}: ${(err as Error).message}`;
  }
  try {
    const why = await unsafe(path, uid, 0o077);
    if (why) return why;
    const key = await readFile(path);
    return key.length >= 32 ? key : `${path} is truncated`;
  } catch (err) {
    return `cannot read ${path}: ${(err as Error).message}`;
  }
}

export function openVerifiedCache(location: CacheLocation, options: { uid?: number } = {}): VerifiedCache {
  const dir = join(location.cache, 'verified');
  const uid = options.uid ?? uidNow();
  let ready: Promise<Buffer | undefined> | undefined;
  let problem: string | undefined;
  const prepare = (): Promise<Buffer | undefined> =>
    (ready ??= (async () => {
      const key = await loadKey(location.data, uid);
      if (typeof key === 'string') {
        problem = key;
        return undefined;
      }
      try {
        await ensureDir(dir, 0o700);
        const why = await unsafe(dir, uid, 0o022);
        if (why) {
          problem = why;
          return undefined;
        }
      } catch (err) {
        problem = `cannot use ${dir}: ${(err as Error).message}`;
        return undefined;
      }
      return key;
    })());
  return {
    problem: () => problem,
    async get(digest, fingerprints, identity) {
      const key = await prepare();
      if (!key) return undefined;
      let entry: CacheEntry & { mac?: string };
      const text = await readSmallFile(
        join(dir, cacheKey(digest, fingerprints, identity)),
        MAX_CACHE_ENTRY_BYTES,
      ).catch(() => undefined);
      if (text === undefined) return undefined;
      try {
        entry = JSON.parse(text) as CacheEntry;
      } catch {
        return undefined;
      }
      if (!entry || typeof entry !== 'object' || typeof entry.mac !== 'string' || !Array.isArray(entry.fingerprints))
        return undefined;
      const same =
        entry.digest === digest &&
        entry.identity === identity &&
        JSON.stringify([...entry.fingerprints].sort()) === JSON.stringify([...fingerprints].sort());
      if (!same) return undefined;
      const want = Buffer.from(mac(key, entry), 'hex');
      const got = Buffer.from(entry.mac, 'hex');
      if (got.length !== want.length || !timingSafeEqual(got, want)) return undefined;
      const { mac: _mac, ...clean } = entry;
      return clean;
    },
    async put(entry) {
      const key = await prepare();
      if (!key) return;
      const full: CacheEntry = {
        ...entry,
        fingerprints: [...entry.fingerprints].sort(),
        verifiedAt: new Date().toISOString(),
      };
      const path = join(dir, cacheKey(entry.digest, entry.fingerprints, entry.identity));
      await writeFileAtomic(path, JSON.stringify({ ...full, mac: mac(key, full) }), { mode: 0o600, fsync: false });
      await chmod(path, 0o600).catch(() => undefined);
    },
  };
}
