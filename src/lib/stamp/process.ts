import {
  appendFileSync,
  closeSync,
  constants,
  fstatSync,
  openSync,
  readSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { basename, sep } from 'node:path';
import { AionError, isAionError } from '../errors/index.js';
import { tempPathFor } from '../fs/index.js';
import { stampFsError as fsError } from './fs-errors.js';
import { loadYaml, NeedsYaml } from './block.js';
import { unifiedDiff } from './diff.js';
import { type Change, MAX_BYTES, type Plan, planStamp, type StampContext } from './plan.js';
import type { Candidate } from './select.js';
import { verifyCurrent } from './verify.js';
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
  /** With reason `updated`: the fields this run gives new values. */
  fields?: string[];
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
  /** Called after a file is read and planned, before its write starts (tests edit the file here). */
  afterPlan?: (path: string) => void;
  /**
   * Shared with other threads: slot 0 is the next unclaimed index into `files`; each thread claims a batch at a
   * time, so a thread that started late or met larger files simply takes fewer.
   */
  queue?: Int32Array;
  /** Receives what the stat cache needs about each file found current. */
  verified?: VerifiedFile[];
}

/**
 * A file found current, with the stat fields that tell later runs it was not touched since. Plain numbers (a
 * bigint stat per file costs more than the rest of reading it): times in ms with a fraction (~0.25 us steps).
 */
export interface VerifiedFile {
  abs: string;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  dev: number;
  hash: string;
  uuid: string;
}

const BATCH = 16;

/** What the file was when it was read: compared again just before the stamped copy replaces it. */
interface ReadState {
  bytes: Buffer;
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  mode: number;
}

/**
 * Reads without following a symlink (O_NOFOLLOW), so a link is reported rather than stamped through, and without
 * blocking (O_NONBLOCK), so a FIFO never hangs the run: the type is checked on the open descriptor before any read.
 * Synchronous on purpose: for many small files it is ~7x faster than the promise API (measured: 10k files, 108 vs
 * 719 ms), and only one file is open at a time.
 */
function readRegularFile(path: string, scratch?: Scratch): ReadState | { skip: SkipReason } {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') return { skip: 'symlink' };
    throw err;
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile()) return { skip: 'not-a-file' };
    // Replacing one name of a hard-linked file by a new file would silently split it from its other names.
    if (info.nlink > 1) return { skip: 'hard-link' };
    if (info.size > MAX_BYTES) return { skip: 'too-large' };
    return {
      bytes: scratch ? readInto(fd, info.size, scratch) : readAll(fd, info.size),
      dev: info.dev,
      ino: info.ino,
      size: info.size,
      mtimeMs: info.mtimeMs,
      ctimeMs: info.ctimeMs,
      mode: info.mode & 0o7777,
    };
  } finally {
    closeSync(fd);
  }
}

function conflict(display: string): AionError {
  return new AionError('FS017', `${display} changed while it was being stamped; it was left as edited`, {
    position: { file: display },
    hint: 'run aionctl stamp again once the file is no longer being written',
  });
}

/** One buffer reused for every read when nothing read outlives its file (checking): no allocation per file. */
interface Scratch {
  buffer: Buffer;
}

function readInto(fd: number, size: number, scratch: Scratch): Buffer {
  if (scratch.buffer.length < size) scratch.buffer = Buffer.allocUnsafeSlow(Math.max(size, 2 * scratch.buffer.length));
  const bytes = scratch.buffer;
  let filled = 0;
  while (filled < size) {
    const n = readSync(fd, bytes, filled, size - filled, filled);
    if (n === 0) break;
    filled += n;
  }
  return bytes.subarray(0, filled);
}

/** The whole content behind a descriptor (the file as it is now, whatever its name points at). */
function readAll(fd: number, size: number): Buffer {
  const bytes = Buffer.allocUnsafe(size);
  let filled = 0;
  while (filled < size) {
    const n = readSync(fd, bytes, filled, size - filled, filled);
    if (n === 0) break;
    filled += n;
  }
  return filled === size ? bytes : bytes.subarray(0, filled);
}

/**
 * Replaces the file with the stamped bytes atomically (temp file, fsync, rename), but only when it is still what
 * was read: same inode, size, mtime and content, checked right before the rename. A file edited in between keeps
 * the edit and is reported (FS017) instead of being overwritten with a stamp of the old text. The old file stays
 * open across the rename: a write that lands on it in that instant is carried over to the new file (an append is
 * appended, anything else puts the edited text back) and reported the same way.
 */
export async function replaceIfUnchanged(path: string, display: string, read: ReadState, output: Uint8Array) {
  const tmp = tempPathFor(path);
  let fd: number | undefined;
  try {
    const handle = await open(tmp, 'wx', 0o600);
    try {
      await handle.writeFile(output);
      await handle.sync();
      await handle.chmod(read.mode);
    } finally {
      await handle.close();
    }
    // From here to the end everything is synchronous: no other work of this process runs in between.
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    const now = fstatSync(fd, { bigint: true });
    const nowMs = fstatSync(fd);
    const same =
      now.isFile() &&
      nowMs.dev === read.dev &&
      nowMs.ino === read.ino &&
      nowMs.size === read.size &&
      nowMs.mtimeMs === read.mtimeMs &&
      readAll(fd, Number(now.size)).equals(read.bytes);
    if (!same) throw conflict(display);
    renameSync(tmp, path);
    const after = fstatSync(fd, { bigint: true });
    if (after.size !== now.size || after.mtimeNs !== now.mtimeNs) {
      const edited = readAll(fd, Number(after.size));
      if (edited.subarray(0, read.bytes.length).equals(read.bytes)) {
        appendFileSync(path, edited.subarray(read.bytes.length));
      } else {
        writeFileSync(tmp, edited, { mode: read.mode, flag: 'wx' });
        renameSync(tmp, path);
      }
      throw conflict(display);
    }
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    if (isAionError(err)) throw err;
    throw fsError(err, display, 'write');
  } finally {
    if (fd !== undefined) closeSync(fd);
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

/** The last path segment (basename without its allocations for the usual absolute path). */
function fileName(abs: string): string {
  const slash = abs.lastIndexOf(sep);
  return slash >= 0 && slash < abs.length - 1 ? abs.slice(slash + 1) : basename(abs);
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
  // Checking keeps nothing of a file once it is planned: one buffer serves every read.
  const scratch: Scratch | undefined = options.check ? { buffer: Buffer.allocUnsafeSlow(64 * 1024) } : undefined;
  const queue = options.queue;
  let index = 0;
  let batchEnd = queue ? 0 : files.length;
  for (;;) {
    if (index >= batchEnd) {
      if (!queue) break;
      index = Atomics.add(queue, 0, BATCH);
      batchEnd = Math.min(index + BATCH, files.length);
      if (index >= files.length) break;
    }
    const file = files[index++]!;
    let p: Plan;
    let input: Uint8Array;
    let state: ReadState;
    try {
      const read = readRegularFile(file.abs, scratch);
      if ('skip' in read) {
        results.push({ path: file.display, status: 'skipped', reason: read.skip });
        continue;
      }
      state = read;
      input = read.bytes;
      const name = fileName(file.abs);
      // Already current (the CI case): verified on the bytes, no field objects, no render.
      const current = verifyCurrent(read.bytes, name, options.context);
      if (current) {
        results.push({ path: file.display, status: 'unchanged', hash: current.hash, uuid: current.uuid });
        options.verified?.push({
          abs: file.abs,
          size: read.size,
          mtimeMs: read.mtimeMs,
          ctimeMs: read.ctimeMs,
          ino: read.ino,
          dev: read.dev,
          hash: current.hash,
          uuid: current.uuid,
        });
        continue;
      }
      const planned = plan(read.bytes, name, file.display, options.context);
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
    if (p.fields) base.fields = p.fields;
    if (p.change === 'none') {
      results.push(base);
      options.verified?.push({
        abs: file.abs,
        size: state.size,
        mtimeMs: state.mtimeMs,
        ctimeMs: state.ctimeMs,
        ino: state.ino,
        dev: state.dev,
        hash: p.hash,
        uuid: p.uuid,
      });
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
    options.afterPlan?.(file.abs);
    const write = (
      options.write ? options.write(file.abs, output) : replaceIfUnchanged(file.abs, file.display, state, output)
    )
      .then(() => void results.push({ ...base, status: 'stamped', reason: change }))
      .catch((err: unknown) => fail(file, err))
      .finally(() => writes.delete(write));
    writes.add(write);
    if (writes.size >= limit) await Promise.race(writes);
  }
  await Promise.all(writes);
  return results;
}
