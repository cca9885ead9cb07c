import { randomUUID } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import type { StampContext } from './plan.js';
import { processFiles, type VerifiedFile } from './process.js';
import type { Candidate } from './select.js';

/**
 * A stamp worker thread: takes batches of files from the queue it shares with the main thread and the other
 * workers, plans (and writes) them, posts its results back once. It claims its state slot first: a main thread
 * that finished everything before this thread started has closed the slot, and then it posts nothing.
 */
export interface StampWorkerJob {
  files: Candidate[];
  check: boolean;
  concurrency: number;
  diff: boolean;
  context: Omit<StampContext, 'newUuid'>;
  /** Int32 slots: [next file index, state of worker 1, state of worker 2, ...]; state 0 new, 1 working, 2 closed. */
  shared: SharedArrayBuffer;
  slot: number;
  collect: boolean;
}

/** Started before the files are known: waits for its job (or is terminated unused). */
parentPort?.once('message', (job: StampWorkerJob) => void work(job));

async function work(job: StampWorkerJob): Promise<void> {
  const shared = new Int32Array(job.shared);
  if (Atomics.compareExchange(shared, job.slot, 0, 1) !== 0) {
    parentPort?.postMessage(undefined);
    return;
  }
  const verified: VerifiedFile[] | undefined = job.collect ? [] : undefined;
  const results = await processFiles(job.files, {
    check: job.check,
    concurrency: job.concurrency,
    diff: job.diff,
    context: { ...job.context, newUuid: randomUUID },
    queue: shared,
    verified,
  });
  parentPort?.postMessage({ results, verified });
}
