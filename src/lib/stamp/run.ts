import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { AionError, EXIT, exitCodeFor } from '../errors/index.js';
import { lstatSync } from 'node:fs';
import { resolve } from 'node:path';
import { StatCache, type StatCacheOptions } from './cache.js';
import { errorResult, type FileResult, type FileStatus, processFiles, type VerifiedFile } from './process.js';
import type { StampWorkerJob } from './worker.js';
import type { StampContext } from './plan.js';
import { type Candidate, type Selection, type SelectOptions, selectFiles } from './select.js';
import { SKIP_REASONS, type SkipReason } from './styles.js';

export type { FileResult, FileStatus } from './process.js';

export interface StampRunOptions extends SelectOptions {
  /** Write nothing; report what would change. */
  check: boolean;
  /** Skipped files are errors (MD006). */
  strict: boolean;
  /** Writes in flight at once (reads run one at a time per thread). */
  concurrency?: number;
  /**
   * Threads that read and plan, the main thread included: default one per CPU (at most 8, one per 1,000 files)
   * with 1,000+ files to read; 1 runs everything on the main thread. Worker threads draw uuids from
   * crypto.randomUUID, not `context.newUuid`.
   */
  threads?: number;
  /** The stat cache (see cache.ts): files unchanged since a run found them current are not read again. */
  cache?: StatCacheOptions;
  /** Tests: the main thread only waits, so the workers do all the reading and planning. */
  mainThreadIdle?: boolean;
  /** Attach a unified diff to each changed file. */
  diff?: boolean;
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

/** Below this many files to read, one thread is faster: a worker takes tens of ms to start. */
const MIN_FILES_FOR_THREADS = 1000;
/**
 * Threads by default only from 4 CPUs. Measured on 2 CPUs (10k files, --no-cache, same run): main thread alone
 * 1.5-2.0 s CPU and the faster wall time; main + 1 worker 2.4-2.7 s CPU (a second isolate, its module loading and
 * GC) and no wall gain on a machine with other work. `--threads 2` still splits the files on 2 CPUs.
 */
const MIN_CPUS_FOR_THREADS = 4;
const FILES_PER_THREAD = 1000;
const MAX_THREADS = 8;

function threadCount(files: number, requested: number | undefined, started: number): number {
  if (requested !== undefined) return Math.max(1, Math.min(requested, files));
  if (files < MIN_FILES_FOR_THREADS) return 1;
  return Math.min(started + 1, Math.ceil(files / FILES_PER_THREAD));
}

interface Processed {
  results: FileResult[];
  verified?: VerifiedFile[];
}

interface PoolWorker {
  worker: Worker;
  done: Promise<Processed | undefined>;
}

/**
 * Workers started before the files are listed, so their start-up (tens of ms: a new V8 isolate loading the stamp
 * modules) overlaps the listing. Only when the run may be large: no paths (the current directory), many paths, or a
 * directory among them; `threads: 1` and one-CPU machines never start one.
 */
function startPool(options: StampRunOptions): PoolWorker[] {
  const requested = options.threads;
  const cpus = availableParallelism();
  const count =
    requested !== undefined
      ? Math.min(requested, MAX_THREADS * 8) - 1
      : cpus < MIN_CPUS_FOR_THREADS
        ? 0
        : Math.min(cpus, MAX_THREADS) - 1;
  if (count < 1) return [];
  const mayBeLarge =
    requested !== undefined ||
    options.paths.length === 0 ||
    options.paths.length >= MIN_FILES_FOR_THREADS ||
    options.paths.some((p) => {
      try {
        return lstatSync(resolve(options.cwd, p), { throwIfNoEntry: false })?.isDirectory() === true;
      } catch {
        return false;
      }
    });
  if (!mayBeLarge) return [];
  return Array.from({ length: count }, () => {
    const worker = new Worker(new URL('./worker.js', import.meta.url));
    const done = new Promise<Processed | undefined>((resolve, reject) => {
      worker.once('message', (result: Processed | undefined) => resolve(result));
      worker.once('error', reject);
      worker.once('exit', (code) => {
        if (code !== 0) reject(new Error(`stamp worker exited with code ${code}`));
        else resolve(undefined);
      });
    });
    // A worker let go unused must not keep the process alive or fail the run.
    done.catch(() => undefined);
    worker.unref();
    return { worker, done };
  });
}

function closePool(pool: PoolWorker[]): void {
  for (const { worker } of pool) void worker.terminate();
}

/**
 * Reads and plans the files on the main thread and workers of the pool, which share one queue of file batches
 * (planning is CPU-bound: decode, parse, hash). The main thread starts at once; a worker that has not started
 * when the queue runs dry is closed unstarted, so a run never waits for one. Results are sorted afterwards.
 */
async function processInParallel(
  files: Candidate[],
  options: StampRunOptions,
  verified: VerifiedFile[] | undefined,
  pool: PoolWorker[],
): Promise<FileResult[]> {
  const concurrency = options.concurrency ?? defaultConcurrency();
  const threads = threadCount(files.length, options.threads, pool.length);
  const diff = options.diff ?? false;
  const base = { check: options.check, diff, context: options.context, verified };
  const used = pool.slice(0, threads - 1);
  closePool(pool.slice(used.length));
  if (used.length === 0) return processFiles(files, { ...base, concurrency });
  const { newUuid: _ignored, ...context } = options.context;
  const shared = new SharedArrayBuffer(4 * (used.length + 1));
  const slots = new Int32Array(shared);
  const perThread = Math.max(1, Math.ceil(concurrency / (used.length + 1)));
  for (const [i, { worker }] of used.entries()) {
    const job: StampWorkerJob = {
      files,
      check: options.check,
      concurrency: perThread,
      diff,
      context,
      shared,
      slot: i + 1,
      collect: verified !== undefined,
    };
    worker.ref();
    worker.postMessage(job);
  }
  const own = options.mainThreadIdle
    ? []
    : await processFiles(files, { ...base, concurrency: perThread, queue: slots });
  const parts: FileResult[][] = [own];
  for (const [i, { worker, done }] of used.entries()) {
    // Still unstarted: close its slot and let it go.
    if (!options.mainThreadIdle && Atomics.compareExchange(slots, i + 1, 0, 2) === 0) {
      void worker.terminate();
      continue;
    }
    const result = await done;
    if (!result) continue;
    parts.push(result.results);
    if (verified && result.verified) verified.push(...result.verified);
  }
  return parts.flat();
}

/** Stamps (or checks) every selected file. One file's failure never stops the others. */
export async function stampFiles(options: StampRunOptions): Promise<StampRunResult> {
  const pool = startPool(options);
  let selection: Selection;
  try {
    selection = await selectFiles(options);
  } catch (err) {
    closePool(pool);
    throw err;
  }
  const results: FileResult[] = selection.errors.map((e) => errorResult(e.display, e.error));
  for (const link of selection.symlinks) results.push({ path: link, status: 'skipped', reason: 'symlink' });
  // A new uuid is a change the cache cannot know about.
  const cache =
    options.cache && !options.context.regenerateUuid
      ? StatCache.load(options.cache, options.projectRoot ?? options.cwd, options.context)
      : undefined;
  let toRead = selection.files;
  if (cache) {
    toRead = [];
    for (const file of selection.files) {
      const hit = cache.lookup(file.abs);
      if (hit) results.push({ path: file.display, status: 'unchanged', hash: hit.hash, uuid: hit.uuid });
      else toRead.push(file);
    }
    const hits = selection.files.length - toRead.length;
    options.cache?.debug?.(`stamp cache: ${hits} of ${selection.files.length} files unchanged since checked, not read`);
  }
  const verified: VerifiedFile[] | undefined = cache ? [] : undefined;
  results.push(...(await processInParallel(toRead, options, verified, pool)));
  if (cache && verified) cache.save(new Set(selection.files.map((f) => f.abs)), verified);
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
