/**
 * Reading the many small files of a `validate` run (manifests, I/O schemas) with as few syscalls and allocations as
 * possible: one scratch buffer reused for every file, and no fstat for a file the directory walk already saw as a
 * regular file (its readdir entry type said so).
 */
import { readSync } from 'node:fs';

/** Files up to this size are read into the shared scratch buffer. */
export const SCRATCH_BYTES = 64 * 1024;
let scratch: Buffer | undefined;

/** The shared scratch buffer (its contents are only valid until the next read: decode them at once). */
export function scratchBuffer(): Buffer {
  return (scratch ??= Buffer.allocUnsafe(SCRATCH_BYTES));
}

/**
 * For a file the walk saw as regular, opened as `fd`: reads it whole into the scratch buffer and returns its length,
 * proving the end with a second read that returns 0 (a short read alone is not trusted). Returns undefined, having
 * changed nothing the caller relies on, whenever that proof fails: empty, bigger than the buffer, grown meanwhile,
 * or not a regular file any more (EISDIR, EAGAIN from a FIFO swapped in): the caller then takes its fstat path, which
 * decides (and reports) exactly as for a file the walk did not see.
 */
export function readKnownRegular(fd: number): number | undefined {
  const buffer = scratchBuffer();
  let n: number;
  try {
    n = readSync(fd, buffer, 0, SCRATCH_BYTES, 0);
    if (n === 0 || n === SCRATCH_BYTES) return undefined;
    if (readSync(fd, buffer, n, SCRATCH_BYTES - n, n) !== 0) return undefined;
  } catch {
    return undefined;
  }
  return n;
}
