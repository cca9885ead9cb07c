import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import { type AionError, fsError, isAionError } from '../errors/index.js';
import { writeFileAtomic } from '../fs/index.js';
import { loadYaml, NeedsYaml } from './block.js';
import { unifiedDiff } from './diff.js';
import { type Change, MAX_BYTES, type Plan, planStamp, type StampContext } from './plan.js';
import type { Candidate } from './select.js';
import type { SkipReason } from './styles.js';

export type FileStatus = 'stamped' | 'would-stamp' | 'unchanged' | 'skipped' | 'error';

export interface FileResult {
  path: string;
  status: FileStatus;
  /** Why it changes (missing, stale, noncanonical) or why it was skipped. */
  reason?: Change | SkipReason;
  hash?: string;
  uuid?: string;
  error?: ReturnType<AionError['toJSON']>;
  /** Unified diff of the change (with `diff: true`). */
  diff?: string;
}

export interface ProcessOptions {
  check: boolean;
  /** Writes in flight at once. */
  concurrency: number;
  context: StampContext;
  /** Attach a unified diff to each changed file. */
  diff?: boolean;
  /** The atomic write (replaceable in tests to observe concurrency). */
  write?: (path: string, data: Uint8Array) => Promise<void>;
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

export function errorResult(path: string, error: AionError): FileResult {
  return { path, status: 'error', error: error.toJSON() };
}

/** Reads, plans and (unless checking) writes each file; one file's failure never stops the others. */
export async function processFiles(files: Candidate[], options: ProcessOptions): Promise<FileResult[]> {
  const results: FileResult[] = [];
  // Reads and plans run in turn (sync reads are fastest); writes overlap, at most `limit` in flight.
  const limit = options.concurrency;
  const writes = new Set<Promise<void>>();
  const fail = (file: Candidate, err: unknown) => {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !file.explicit) return; // listed by git, deleted since
    results.push(errorResult(file.display, isAionError(err) ? err : fsError(err, file.display)));
  };
  for (const file of files) {
    let p: Plan;
    let input: Uint8Array;
    try {
      const read = readRegularFile(file.abs);
      if ('skip' in read) {
        results.push({ path: file.display, status: 'skipped', reason: read.skip });
        continue;
      }
      input = read.bytes;
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
    const base: FileResult = { path: file.display, status: 'unchanged', hash: p.hash, uuid: p.uuid };
    if (p.change === 'none') {
      results.push(base);
      continue;
    }
    if (options.diff && p.output) {
      base.diff = unifiedDiff(
        Buffer.from(input).toString('utf8'),
        Buffer.from(p.output).toString('utf8'),
        file.display,
      );
    }
    if (options.check || !p.output) {
      results.push({ ...base, status: 'would-stamp', reason: p.change });
      continue;
    }
    const output = p.output;
    const change = p.change;
    const write = (options.write ?? writeFileAtomic)(file.abs, output)
      .then(() => void results.push({ ...base, status: 'stamped', reason: change }))
      .catch((err: unknown) => fail(file, err))
      .finally(() => writes.delete(write));
    writes.add(write);
    if (writes.size >= limit) await Promise.race(writes);
  }
  await Promise.all(writes);
  return results;
}
