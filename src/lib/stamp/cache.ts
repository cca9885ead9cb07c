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
/**
 * 2: one line per entry (`hash uuid size mtimeMs ctimeMs ino dev path`), closed by `end <count>`; times in ms
 * with the fraction a double holds (~0.25 us steps). 1 was JSON with nanosecond times (read as foreign now).
 */
export const CACHE_VERSION = 2;
/** Bumped whenever the rules that decide "current" change (render, hash, parse). */
const RULES = 'stamp-rules-1';
/** File-system timestamps coarser than this (FAT: 2 s) or a skewed clock could hide an edit. */
export const RACY_MS = 2000;
const MAX_CACHE_BYTES = 256 * 1024 * 1024;
const MAX_ENTRIES = 1_000_000;
/** A non-negative number as `String(n)` writes one below 1e21 (no sign, no exponent). */
const NUMBER = /^(?:0|[1-9][0-9]{0,20})(?:\.[0-9]{1,30})?$/;

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

function wallClockNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

export interface CacheHit {
  hash: string;
  uuid: string;
}

export class StatCache {
  private readonly entries: Map<string, Entry>;
  /** When the run that verified the entries started (ms). */
  private readonly verifiedAt: number;
  private readonly startedAt: number;
  private readonly hits = new Map<string, Entry>();

  private constructor(
    private readonly file: string,
    private readonly key: string,
    private readonly options: StatCacheOptions,
    entries: Map<string, Entry>,
    verifiedAt: number,
  ) {
    this.entries = entries;
    this.verifiedAt = verifiedAt;
    this.startedAt = Number((options.now ?? wallClockNs)() / 1000n) / 1000;
  }

  /** The cache for runs in `scope` (the project root) with this context; empty when absent or not trusted. */
  static load(options: StatCacheOptions, scope: string, context: StampContext): StatCache {
    const key = cacheKey(options.version, context);
    const name = createHash('sha256').update(`${scope}\0${key}`).digest('hex').slice(0, 32);
    const file = join(options.dir, 'stamp', `${name}.v${CACHE_VERSION}`);
    const empty = () => new StatCache(file, key, options, new Map(), 0);
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
      info = lstatSync(abs, { throwIfNoEntry: false });
    } catch {
      return undefined;
    }
    if (
      !info ||
      !info.isFile() ||
      info.nlink !== 1 ||
      info.size !== entry.size ||
      info.mtimeMs !== entry.mtimeMs ||
      info.ctimeMs !== entry.ctimeMs ||
      info.ino !== entry.ino ||
      info.dev !== entry.dev
    )
      return undefined;
    const racy = this.verifiedAt - RACY_MS;
    if (entry.mtimeMs >= racy || entry.ctimeMs >= racy) return undefined;
    this.hits.set(abs, entry);
    return entry;
  }

  /**
   * Writes what this run knows: the files it verified (with this run's start as their verification time), the
   * hits, and earlier entries for files this run did not visit. Skipped when nothing changed. Never throws.
   */
  save(visited: ReadonlySet<string>, verified: readonly VerifiedFile[]): void {
    // An entry racily clean under its own run stays untrusted: carried over to this later time it would pass.
    const racy = this.verifiedAt - RACY_MS;
    const keep = (abs: string, entry: Entry) =>
      visited.has(abs) ? this.hits.has(abs) : entry.mtimeMs < racy && entry.ctimeMs < racy;
    // The usual repeat run found every entry still good and verified nothing new: the file stays as it is.
    if (verified.length === 0 && this.hits.size === this.entries.size) return;
    let dropped = 0;
    const next = new Map<string, Entry>();
    for (const [abs, entry] of this.entries) {
      if (keep(abs, entry) && next.size < MAX_ENTRIES) next.set(abs, entry);
      else dropped++;
    }
    for (const v of verified) if (storable(v)) next.set(v.abs, v);
    if (verified.length === 0 && dropped === 0) return;
    // Entries carried over were trusted under the old verification time, so they are under this later one too.
    const lines: string[] = [`${CACHE_FORMAT} ${CACHE_VERSION} ${this.key} ${this.startedAt}`];
    for (const [abs, e] of next) {
      lines.push(`${e.hash} ${e.uuid} ${e.size} ${e.mtimeMs} ${e.ctimeMs} ${e.ino} ${e.dev} ${abs}`);
    }
    lines.push(`end ${next.size}`, '');
    const text = lines.join('\n');
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

/** What the line format holds exactly: numbers as `String(n)` writes them, a path without a line break. */
function storable(v: VerifiedFile): boolean {
  return (
    v.abs !== '' &&
    !v.abs.includes('\n') &&
    !v.abs.includes('\r') &&
    Number.isSafeInteger(v.size) &&
    Number.isSafeInteger(v.ino) &&
    Number.isSafeInteger(v.dev) &&
    v.size >= 0 &&
    v.ino >= 0 &&
    v.dev >= 0 &&
    plainNumber(v.mtimeMs) &&
    plainNumber(v.ctimeMs)
  );
}

/** A number `String(n)` writes without sign or exponent (what NUMBER reads back). */
function plainNumber(n: number): boolean {
  return n === 0 || (n >= 1e-6 && n < 1e21);
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
function parseCache(text: string, key: string): { entries: Map<string, Entry>; verifiedAt: number } | string {
  const lines = text.split('\n');
  const head = lines[0]!.split(' ');
  if (head[0] !== CACHE_FORMAT || head.length !== 4) return 'not a stamp cache';
  if (head[1] !== `${CACHE_VERSION}`) return `format version ${head[1]!.slice(0, 20)}, not ${CACHE_VERSION}`;
  if (head[2] !== key) return 'written for other stamp settings';
  const verifiedAt = numberOf(head[3]!);
  if (verifiedAt === undefined) return 'no verification time';
  // `end <count>` and the final line break: a file cut short is never read as a shorter cache.
  const count = lines.length - 3;
  if (lines[lines.length - 1] !== '' || lines[lines.length - 2] !== `end ${count}`) return 'incomplete';
  if (count > MAX_ENTRIES) return 'too many entries';
  const entries = new Map<string, Entry>();
  for (let i = 1; i <= count; i++) {
    const line = lines[i]!;
    const hash = line.slice(0, 64);
    if (!HASH_RE.test(hash) || line.charCodeAt(64) !== 32) return 'a bad hash';
    const uuid = line.slice(65, 101);
    if (!UUID_RE.test(uuid) || line.charCodeAt(101) !== 32) return 'a bad uuid';
    const numbers: number[] = [];
    let at = 102;
    for (let k = 0; k < 5; k++) {
      const space = line.indexOf(' ', at);
      const n = space < 0 ? undefined : numberOf(line.slice(at, space));
      if (n === undefined || (k !== 1 && k !== 2 && !Number.isSafeInteger(n))) return 'a bad number';
      numbers.push(n);
      at = space + 1;
    }
    const abs = line.slice(at);
    if (abs === '' || abs.includes('\r') || entries.has(abs)) return 'a malformed entry';
    const [size, mtimeMs, ctimeMs, ino, dev] = numbers as [number, number, number, number, number];
    entries.set(abs, { size, mtimeMs, ctimeMs, ino, dev, hash, uuid });
  }
  return { entries, verifiedAt };
}

function numberOf(text: string): number | undefined {
  return NUMBER.test(text) ? Number(text) : undefined;
}
