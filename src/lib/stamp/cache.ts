import { createHash } from 'node:crypto';
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { canonicalJson } from '../json/index.js';
import { HASH_RE, UUID_RE } from './fields.js';
import type { StampContext } from './plan.js';
import type { VerifiedFile } from './process.js';

/**
 * The stat cache of `stamp`, like git's index: for each file found current, the stat fields that change whenever
 * its content can have changed (size, mtime, ctime, inode, device) and the hash and uuid it was found current
 * with. A later run that finds the same stat fields skips reading the file. A file whose mtime or ctime is too
 * close to the run that verified it (racily clean: an edit in the same clock tick keeps both) is read again.
 *
 * The file is disposable: written atomically (temp + rename), versioned, keyed by everything besides the file that
 * decides whether a file is current (the stamp rules, aionctl's version, the field overrides), and
 * ignored, never trusted, when it is corrupt, foreign or of another version.
 */
export const CACHE_FORMAT = 'aionctl-stamp-stat-cache';
export const CACHE_VERSION = 1;
/** Bumped whenever the rules that decide "current" change (render, hash, parse). */
const RULES = 'stamp-rules-1';
/** File-system timestamps coarser than this (FAT: 2 s) or a skewed clock could hide an edit. */
export const RACY_NS = 2_000_000_000n;
const MAX_CACHE_BYTES = 256 * 1024 * 1024;
const MAX_ENTRIES = 1_000_000;
const DECIMAL = /^(?:0|[1-9][0-9]{0,19})$/;

export interface StatCacheOptions {
  /** The cache directory (`resolvePaths(env).cache`); the stamp cache lives in its `stamp/` folder. */
  dir: string;
  /** aionctl's version: a new release never trusts an older release's findings. */
  version: string;
  /** `--debug` notes (a cache ignored, not written). */
  debug?: (line: string) => void;
  /** Wall clock in ns since 1970 (tests move it). */
  now?: () => bigint;
}

/** What a verified file leaves in the cache: its stat fields, hash and uuid (the path is the key). */
type Entry = Omit<VerifiedFile, 'abs'>;

export interface CacheHit {
  hash: string;
  uuid: string;
}

export class StatCache {
  private readonly entries: Map<string, Entry>;
  /** When the run that verified the entries started (ns). */
  private readonly verifiedAt: bigint;
  private readonly startedAt: bigint;
  private readonly hits = new Map<string, Entry>();

  private constructor(
    private readonly file: string,
    private readonly key: string,
    private readonly options: StatCacheOptions,
    entries: Map<string, Entry>,
    verifiedAt: bigint,
  ) {
    this.entries = entries;
    this.verifiedAt = verifiedAt;
    this.startedAt = (options.now ?? wallClockNs)();
  }

  /** The cache for runs in `scope` (the project root) with this context; empty when absent or not trusted. */
  static load(options: StatCacheOptions, scope: string, context: StampContext): StatCache {
    const key = cacheKey(options.version, context);
    const name = createHash('sha256').update(`${scope}\0${key}`).digest('hex').slice(0, 32);
    const file = join(options.dir, 'stamp', `${name}.json`);
    const empty = () => new StatCache(file, key, options, new Map(), 0n);
    let text: string | undefined;
    try {
      text = readPrivateFile(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        options.debug?.(`stamp cache ${file}: not read (${msg(err)})`);
      return empty();
    }
    if (text === undefined) {
      options.debug?.(`stamp cache ${file}: not a regular file of a sane size; ignored`);
      return empty();
    }
    const parsed = parseCache(text, key);
    if (typeof parsed === 'string') {
      options.debug?.(`stamp cache ${file}: ${parsed}; ignored (it is rewritten by this run)`);
      return empty();
    }
    return new StatCache(file, key, options, parsed.entries, parsed.verifiedAt);
  }

  /** The cached finding for a file whose stat fields still match and are not racily clean; else undefined. */
  lookup(abs: string): CacheHit | undefined {
    const entry = this.entries.get(abs);
    if (!entry) return undefined;
    let info;
    try {
      info = lstatSync(abs, { bigint: true, throwIfNoEntry: false });
    } catch {
      return undefined;
    }
    if (
      !info ||
      !info.isFile() ||
      info.nlink !== 1n ||
      info.size !== entry.size ||
      info.mtimeNs !== entry.mtimeNs ||
      info.ctimeNs !== entry.ctimeNs ||
      info.ino !== entry.ino ||
      info.dev !== entry.dev
    )
      return undefined;
    const racy = this.verifiedAt - RACY_NS;
    if (entry.mtimeNs >= racy || entry.ctimeNs >= racy) return undefined;
    this.hits.set(abs, entry);
    return entry;
  }

  /**
   * Writes what this run knows: the files it verified (with this run's start as their verification time), the
   * hits, and earlier entries for files this run did not visit. Skipped when nothing changed. Never throws.
   */
  save(visited: ReadonlySet<string>, verified: readonly VerifiedFile[]): void {
    // An entry racily clean under its own run stays untrusted: carried over to this later time it would pass.
    const racy = this.verifiedAt - RACY_NS;
    const keep = (abs: string, entry: Entry) =>
      visited.has(abs) ? this.hits.has(abs) : entry.mtimeNs < racy && entry.ctimeNs < racy;
    // The usual repeat run found every entry still good and verified nothing new: the file stays as it is.
    if (verified.length === 0 && this.hits.size === this.entries.size) return;
    let dropped = 0;
    const next = new Map<string, Entry>();
    for (const [abs, entry] of this.entries) {
      if (keep(abs, entry) && next.size < MAX_ENTRIES) next.set(abs, entry);
      else dropped++;
    }
    for (const v of verified) {
      const { abs, ...entry } = v;
      next.set(abs, entry);
    }
    if (verified.length === 0 && dropped === 0) return;
    // Entries carried over were trusted under the old verification time, so they are under this later one too.
    const lines: string[] = [];
    for (const [abs, e] of next) {
      lines.push(
        JSON.stringify([abs, `${e.size}`, `${e.mtimeNs}`, `${e.ctimeNs}`, `${e.ino}`, `${e.dev}`, e.hash, e.uuid]),
      );
    }
    const head = JSON.stringify({
      format: CACHE_FORMAT,
      version: CACHE_VERSION,
      key: this.key,
      verifiedAt: `${this.startedAt}`,
    });
    const text = `${head.slice(0, -1)},"entries":[\n${lines.join(',\n')}\n]}\n`;
    const tmp = `${this.file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    try {
      mkdirSync(join(this.options.dir, 'stamp'), { recursive: true, mode: 0o700 });
      writeFileSync(tmp, text, { mode: 0o600, flag: 'wx' });
      renameSync(tmp, this.file);
    } catch (err) {
      rmSync(tmp, { force: true });
      this.options.debug?.(`stamp cache ${this.file}: not written (${msg(err)})`);
    }
  }
}

function wallClockNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

function msg(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? (err as Error).message;
}

/**
 * Everything besides the file that decides whether it is current. `now` does not: a current file keeps its time.
 * Nor do the defaults: they only fill fields a block lacks, and such a block is never current whatever they are
 * (so `stamp --check`, which does not look up the default owner, shares the cache of `stamp`).
 */
function cacheKey(version: string, context: StampContext): string {
  const inputs = { rules: RULES, version, overrides: context.overrides };
  return createHash('sha256').update(canonicalJson(inputs)).digest('hex');
}

/** The cache file's text: not through a symlink, only a regular file, bounded. */
function readPrivateFile(file: string): string | undefined {
  const fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const info = fstatSync(fd);
    if (!info.isFile() || info.size > MAX_CACHE_BYTES) return undefined;
    const bytes = Buffer.allocUnsafe(info.size);
    let filled = 0;
    while (filled < info.size) {
      const n = readSync(fd, bytes, filled, info.size - filled, filled);
      if (n === 0) break;
      filled += n;
    }
    return bytes.toString('utf8', 0, filled);
  } finally {
    closeSync(fd);
  }
}

/** The entries, or why the file is not trusted. Every field is checked: one bad entry rejects the whole file. */
function parseCache(text: string, key: string): { entries: Map<string, Entry>; verifiedAt: bigint } | string {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return 'not valid JSON';
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return 'not a JSON object';
  const d = doc as Record<string, unknown>;
  if (d.format !== CACHE_FORMAT) return 'not a stamp cache';
  if (d.version !== CACHE_VERSION) return `format version ${String(d.version)}, not ${CACHE_VERSION}`;
  if (d.key !== key) return 'written for other stamp settings';
  if (typeof d.verifiedAt !== 'string' || !DECIMAL.test(d.verifiedAt)) return 'no verification time';
  if (!Array.isArray(d.entries) || d.entries.length > MAX_ENTRIES) return 'no entry list';
  const entries = new Map<string, Entry>();
  for (const item of d.entries as unknown[]) {
    if (!Array.isArray(item) || item.length !== 8) return 'a malformed entry';
    const [abs, size, mtime, ctime, ino, dev, hash, uuid] = item as unknown[];
    if (typeof abs !== 'string' || abs === '' || entries.has(abs)) return 'a malformed entry';
    for (const n of [size, mtime, ctime, ino, dev])
      if (typeof n !== 'string' || !DECIMAL.test(n)) return 'a bad number';
    if (typeof hash !== 'string' || !HASH_RE.test(hash)) return 'a bad hash';
    if (typeof uuid !== 'string' || !UUID_RE.test(uuid)) return 'a bad uuid';
    entries.set(abs, {
      size: BigInt(size as string),
      mtimeNs: BigInt(mtime as string),
      ctimeNs: BigInt(ctime as string),
      ino: BigInt(ino as string),
      dev: BigInt(dev as string),
      hash,
      uuid,
    });
  }
  return { entries, verifiedAt: BigInt(d.verifiedAt) };
}
