import { randomUUID } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import type { StampContext } from './plan.js';
import { processFiles } from './process.js';
import type { Candidate } from './select.js';

/** A stamp worker thread: plans (and writes) its share of the files, posts the results back once. */
interface StampWorkerData {
  files: Candidate[];
  check: boolean;
  concurrency: number;
  diff: boolean;
  context: Omit<StampContext, 'newUuid'>;
}

const data = workerData as StampWorkerData;
const results = await processFiles(data.files, {
  check: data.check,
  concurrency: data.concurrency,
  diff: data.diff,
  context: { ...data.context, newUuid: randomUUID },
});
parentPort?.postMessage(results);
