import { chmod, mkdir, rename, rm, stat } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fsError } from '../errors/index.js';

export interface AtomicWriteOptions {
  /** File mode for a new file; an existing file keeps its own mode unless `forceMode` is set. */
  mode?: number;
  /** Apply `mode` even when replacing a file with another mode (private keys are always 0600). */
  forceMode?: boolean;
  /** fsync before rename (default true): a crash never leaves a truncated file. */
  fsync?: boolean;
}

/** A temp name in the same directory, so rename(2) is atomic (same file system). */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

/**
 * Writes `data` to `path` atomically: temp file in the same directory, fsync, rename. The old content stays
 * intact until the rename, and the existing file mode is kept. Errors are FS003.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const tmp = tempPathFor(path);
  let mode = options.mode;
  if (!options.forceMode) {
    try {
      mode = (await stat(path)).mode & 0o7777;
    } catch {
      // new file: use the requested mode (or the umask default)
    }
  }
  try {
    const handle = await open(tmp, 'wx', mode ?? 0o666);
    try {
      await handle.writeFile(data);
      if (options.fsync !== false) await handle.sync();
    } finally {
      await handle.close();
    }
    if (mode !== undefined) await chmod(tmp, mode);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw fsError(err, path, 'write');
  }
}

/** mkdir -p with a mode for new directories (0700 for private ones such as the runtime dir). */
export async function ensureDir(path: string, mode = 0o755): Promise<void> {
  try {
    await mkdir(path, { recursive: true, mode });
  } catch (err) {
    throw fsError(err, path, 'write');
  }
}

/**
 * A small file we wrote (a cache entry, a record) read with a bound: its text, or `undefined` when it holds more
 * than `limit` bytes (a planted or runaway file is never read whole). File-system errors are thrown as is.
 */
export async function readSmallFile(path: string, limit: number): Promise<string | undefined> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(limit + 1);
    const { bytesRead } = await handle.read(buffer, 0, limit + 1, 0);
    return bytesRead > limit ? undefined : buffer.toString('utf8', 0, bytesRead);
  } finally {
    await handle.close();
  }
}
