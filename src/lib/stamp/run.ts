import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename } from 'node:path';
import { AionError, exitCodeFor, EXIT, fsError, isAionError } from '../errors/index.js';
import { writeFileAtomic } from '../fs/index.js';
import { loadYaml, NeedsYaml } from './block.js';
import { type Change, MAX_BYTES, type Plan, planStamp, type StampContext } from './plan.js';
import { type Candidate, type SelectOptions, selectFiles } from './select.js';
import { SKIP_REASONS, type SkipReason } from './styles.js';

export type FileStatus = 'stamped' | 'would-stamp' | 'unchanged' | 'skipped' | 'error';

export interface FileResult {
  path: string;
  status: FileStatus;
  /** Why it changes (missing, stale, noncanonical) or why it was skipped. */
  reason?: Change | SkipReason;
  hash?: string;
  uuid?: string;
  error?: ReturnType<AionError['toJSON']>;
}

export interface StampRunOptions extends SelectOptions {
  /** Write nothing; report what would change. */
  check: boolean;
  /** Skipped files are errors (MD006). */
  strict: boolean;
  /** Files processed at once (each holds one open file). */
  concurrency?: number;
  context: StampContext;
}

export interface StampRunResult {
  check: boolean;
  files: FileResult[];
  duplicates: Array<{ uuid: string; paths: string[] }>;
  summary: Record<FileStatus, number> & { duplicates: number };
  /** From the error model: 3 when a file could not be processed, 1 for drift or duplicate uuids, else 0. */
  exitCode: number;
}

export function defaultConcurrency(): number {
  return Math.min(64, 4 * availableParallelism());
}

/**
 * Reads without following a symlink (O_NOFOLLOW), so a link is reported rather than stamped through. Synchronous
 * on purpose: for many small files it is ~7x faster than the promise API (measured: 10k files, 108 vs 719 ms),
 * and only one file is open at a time.
 */
function readRegularFile(path: string): { bytes: Uint8Array } | { skip: SkipReason } {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') return { skip: 'symlink' };
    throw err;
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile()) return { skip: 'not-a-file' };
    if (info.size > MAX_BYTES) return { skip: 'too-large' };
    const bytes = Buffer.allocUnsafe(info.size);
    let filled = 0;
    while (filled < info.size) {
      const n = readSync(fd, bytes, filled, info.size - filled, filled);
      if (n === 0) break;
      filled += n;
    }
    return { bytes: filled === info.size ? bytes : bytes.subarray(0, filled) };
  } finally {
    closeSync(fd);
  }
}

/** Plans synchronously; only a block outside the canonical form waits for the YAML library to load. */
function plan(bytes: Uint8Array, name: string, display: string, ctx: StampContext): Plan | Promise<Plan> {
  try {
    return planStamp(bytes, name, display, ctx);
  } catch (err) {
    if (!(err instanceof NeedsYaml)) throw err;
    return loadYaml().then(() => planStamp(bytes, name, display, ctx));
  }
}

function errorResult(path: string, error: AionError): FileResult {
  return { path, status: 'error', error: error.toJSON() };
}

/** Runs `n` workers over `items` (bounded concurrency without a dependency). */
export async function forEachLimited<T>(items: T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(n, items.length)) }, worker));
}

/** Stamps (or checks) every selected file. One file's failure never stops the others. */
export async function stampFiles(options: StampRunOptions): Promise<StampRunResult> {
  const selection = await selectFiles(options);
  const results: FileResult[] = selection.errors.map((e) => errorResult(e.display, e.error));
  for (const link of selection.symlinks) results.push({ path: link, status: 'skipped', reason: 'symlink' });
  // Reads and plans run in turn (sync reads are fastest); writes overlap, at most `limit` in flight.
  const limit = options.concurrency ?? defaultConcurrency();
  const writes = new Set<Promise<void>>();
  const fail = (file: Candidate, err: unknown) => {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !file.explicit) return; // listed by git, deleted since
    results.push(errorResult(file.display, isAionError(err) ? err : fsError(err, file.display)));
  };
  for (const file of selection.files) {
    let p: Plan;
    try {
      const read = readRegularFile(file.abs);
      if ('skip' in read) {
        results.push({ path: file.display, status: 'skipped', reason: read.skip });
        continue;
      }
      const planned = plan(read.bytes, basename(file.abs), file.display, options.context);
      p = planned instanceof Promise ? await planned : planned;
    } catch (err) {
      fail(file, err);
      continue;
    }
    if (p.kind === 'skip') {
      results.push({ path: file.display, status: 'skipped', reason: p.reason });
      continue;
    }
    const base = { path: file.display, hash: p.hash, uuid: p.uuid };
    if (p.change === 'none') {
      results.push({ ...base, status: 'unchanged' });
      continue;
    }
    if (options.check || !p.output) {
      results.push({ ...base, status: 'would-stamp', reason: p.change });
      continue;
    }
    const output = p.output;
    const change = p.change;
    const write = writeFileAtomic(file.abs, output)
      .then(() => void results.push({ ...base, status: 'stamped', reason: change }))
      .catch((err: unknown) => fail(file, err))
      .finally(() => writes.delete(write));
    writes.add(write);
    if (writes.size >= limit) await Promise.race(writes);
  }
  await Promise.all(writes);
  if (options.strict) {
    for (const [i, r] of results.entries()) {
      if (r.status !== 'skipped') continue;
      const reason = r.reason as SkipReason;
      results[i] = errorResult(
        r.path,
        new AionError('MD006', `${r.path}: not stampable: ${SKIP_REASONS[reason]}`, {
          position: { file: r.path },
          hint: 'exclude it (--exclude or stamp.ignore in .aionctl.yaml) or drop --strict',
          details: { reason },
        }),
      );
    }
  }
  results.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const duplicates = findDuplicates(results);
  const summary = { stamped: 0, 'would-stamp': 0, unchanged: 0, skipped: 0, error: 0, duplicates: duplicates.length };
  for (const r of results) summary[r.status]++;
  return { check: options.check, files: results, duplicates, summary, exitCode: exitCodeOf(results, duplicates) };
}

/** Copied files share a uuid; the first path (in sort order) is listed first. */
function findDuplicates(results: FileResult[]): Array<{ uuid: string; paths: string[] }> {
  const byUuid = new Map<string, string[]>();
  for (const r of results) {
    if (!r.uuid) continue;
    const key = r.uuid.toLowerCase();
    const list = byUuid.get(key);
    if (list) list.push(r.path);
    else byUuid.set(key, [r.path]);
  }
  return [...byUuid].filter(([, paths]) => paths.length > 1).map(([uuid, paths]) => ({ uuid, paths }));
}

function exitCodeOf(results: FileResult[], duplicates: unknown[]): number {
  let code: number = EXIT.OK;
  for (const r of results) {
    if (r.status === 'error' && r.error) code = Math.max(code, exitCodeFor(r.error.code as string));
    else if (r.status === 'would-stamp') code = Math.max(code, EXIT.CHECK_FAILED);
  }
  if (duplicates.length > 0) code = Math.max(code, exitCodeFor('MD007'));
  return code;
}
