/**
 * A warm WASI host process: started once by the daemon's pool (`node --no-turbo-fast-api-calls
 * --wasm-max-mem-pages=N wasm-host.js`), it serves many runs. Jobs arrive as JSON lines on stdin, answers leave as
 * JSON lines on stdout. Compiled modules are kept by digest, so a repeat run skips compilation. The module's own
 * stdin/stdout/stderr are private temp files (never a blocking fd: a blocked WASI read cannot be interrupted), and it
 * gets no preopens and an empty environment. The parent enforces the timeout by SIGKILL and replaces the process.
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync, fstatSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { WASI } from 'node:wasi';
import { Wasm, type WasmModule } from '../lib/daemon/wasm-api.js';

interface Job {
  id: number;
  digest: string;
  /** base64 module bytes, sent the first time this host sees the digest. */
  module?: string;
  input: string;
  outputCap: number;
}

interface Answer {
  id: number;
  exitCode?: number;
  stdout?: string;
  truncated?: boolean;
  stderr?: string;
  needModule?: boolean;
  error?: string;
  rss: number;
}

const modules = new Map<string, WasmModule>();
const scratch = mkdtempSync(join(tmpdir(), 'aionctl-host-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));

function readCapped(fd: number, cap: number): { text: string; truncated: boolean } {
  const size = fstatSync(fd).size;
  const length = Math.min(size, cap);
  const buf = Buffer.alloc(length);
  let off = 0;
  while (off < length) {
    const n = readSync(fd, buf, off, length - off, off);
    if (n === 0) break;
    off += n;
  }
  return { text: buf.subarray(0, off).toString('utf8'), truncated: size > cap };
}

async function runJob(job: Job): Promise<Answer> {
  let mod = modules.get(job.digest);
  if (!mod) {
    if (!job.module) return { id: job.id, needModule: true, rss: process.memoryUsage().rss };
    mod = new Wasm.Module(Buffer.from(job.module, 'base64'));
    modules.set(job.digest, mod);
  }
  const inPath = join(scratch, `in-${job.id}`);
  const outPath = join(scratch, `out-${job.id}`);
  const errPath = join(scratch, `err-${job.id}`);
  writeFileSync(inPath, job.input);
  const inFd = openSync(inPath, 'r');
  const outFd = openSync(outPath, 'w+');
  const errFd = openSync(errPath, 'w+');
  try {
    const wasi = new WASI({
      version: 'preview1',
      args: ['module'],
      env: {},
      stdin: inFd,
      stdout: outFd,
      stderr: errFd,
    });
    const instance = await Wasm.instantiate(mod, wasi.getImportObject());
    const exitCode = wasi.start(instance as Parameters<WASI['start']>[0]);
    const out = readCapped(outFd, job.outputCap);
    const err = readCapped(errFd, 64 * 1024);
    return {
      id: job.id,
      exitCode,
      stdout: out.text,
      truncated: out.truncated,
      stderr: err.text,
      rss: process.memoryUsage().rss,
    };
  } catch (err) {
    return { id: job.id, error: (err as Error).message, rss: process.memoryUsage().rss };
  } finally {
    for (const fd of [inFd, outFd, errFd]) closeSync(fd);
    for (const p of [inPath, outPath, errPath]) rmSync(p, { force: true });
  }
}

// Jobs are served one at a time (the pool sends one per host); answers keep the request id.
const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
let chain = Promise.resolve();
lines.on('line', (line) => {
  chain = chain.then(async () => {
    let answer: Answer;
    try {
      answer = await runJob(JSON.parse(line) as Job);
    } catch (err) {
      answer = { id: -1, error: (err as Error).message, rss: process.memoryUsage().rss };
    }
    process.stdout.write(`${JSON.stringify(answer)}\n`);
  });
});
lines.on('close', () => process.exit(0));
process.stdout.write(`${JSON.stringify({ id: 0, ready: true, rss: process.memoryUsage().rss })}\n`);
