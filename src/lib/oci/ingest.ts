/**
 * The temp files of `ingest/` (blobs being written before their verified rename into `blobs/`): tracked while
 * open so an interrupted command (SIGINT, SIGTERM, SIGHUP, or a plain exit) removes its own, and swept when a
 * layout is opened so one killed outright (SIGKILL, power loss) does not leave gigabytes behind. The sweep only
 * removes what no live writer can own: a temp file whose writer pid is gone and that has not changed for a
 * minute, or any temp file untouched for a day (a pid reused, a writer in another pid namespace).
 */
import { rmSync } from 'node:fs';
import { lstat, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

const live = new Set<string>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
let installed = false;

/** Dead-writer temp files younger than this are kept (a writer in another pid namespace may still be at work). */
export const DEAD_WRITER_GRACE_MS = 60_000;
/** Any temp file untouched this long is abandoned, whoever wrote it. */
export const ABANDONED_MS = 24 * 60 * 60 * 1000;

function removeLive(): void {
  for (const path of live) {
    try {
      rmSync(path, { force: true });
    } catch {
      // best effort: the sweep at the next open gets it
    }
  }
  live.clear();
}

function install(): void {
  if (installed) return;
  installed = true;
  process.once('exit', removeLive);
  const handlers = new Map<string, () => void>();
  for (const signal of SIGNALS) {
    const handler = () => {
      for (const [s, h] of handlers) process.removeListener(s, h);
      const had = live.size > 0;
      removeLive();
      // Raised again with this handler gone, so the signal keeps its meaning: the default (end the process) when
      // nothing else listens, or whatever the other listeners (a command's abort, ink's signal-exit) decide.
      if (had || process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    handlers.set(signal, handler);
    process.on(signal, handler);
  }
}

/** Marks `path` as this process's temp file; call the returned function once it is renamed or removed. */
export function trackTemp(path: string): () => void {
  install();
  live.add(path);
  return () => {
    live.delete(path);
  };
}

/** The writer pid in a temp name (`<hex>.<pid>.<random>` or `stream.<pid>.<random>`), or undefined. */
export function writerPid(name: string): number | undefined {
  const m = /^[a-z0-9]+\.(\d+)\.[a-f0-9]+$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

/** Removes the stale temp files of an ingest directory (see the module comment); returns the names removed. */
export async function sweepIngest(dir: string, now = Date.now()): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const path = join(dir, name);
    if (live.has(path)) continue;
    try {
      const info = await lstat(path);
      if (!info.isFile()) continue;
      const idle = now - info.mtimeMs;
      const pid = writerPid(name);
      const dead = pid !== undefined && pid !== process.pid && !alive(pid);
      if ((dead && idle > DEAD_WRITER_GRACE_MS) || idle > ABANDONED_MS) {
        await rm(path, { force: true });
        removed.push(name);
      }
    } catch {
      // gone already (its writer renamed it) or unreadable: not ours to judge
    }
  }
  return removed;
}
