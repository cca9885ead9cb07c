/**
 * The WASM host: a separate Node process (started with --no-turbo-fast-api-calls and --wasm-max-mem-pages=N,
 * inside the OS sandbox) that runs WASI modules for its parent, one job after another. Only Node built-ins are
 * imported: this file is bound alone into the sandbox.
 *
 * Protocol. Parent -> host on stdin, host -> parent on fd 3: frames of a 4-byte big-endian length and a JSON
 * object. The host first sends {type:"ready"}. A job is {id, digest, module?, stdin, args, env, preopens,
 * boundary, memoryPages} (module and stdin base64). A fresh WASI instance runs it with stdin from a private temp
 * file and stdout/stderr on the host's own fds 1 and 2; afterwards the host writes `\0<boundary>\n` on fds 1 and 2
 * (so the parent knows where this run's output ends) and sends {type:"result", id, status, exitCode, message,
 * denied}. Compiled modules are kept per digest for the next job.
 */
import { closeSync, openSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { WASI } from 'node:wasi';

interface Job {
  id: number;
  digest: string;
  module?: string;
  stdin: string;
  args: string[];
  env: Record<string, string>;
  preopens: Record<string, string>;
  boundary: string;
  memoryPages: number;
}

type WasiFunction = (...args: number[]) => number;

/** The few WebAssembly JS API types used here (the project's lib settings do not include the DOM ones). */
// eslint-disable-next-line @typescript-eslint/no-namespace -- ambient types for a global, not a module
declare namespace WebAssembly {
  type Imports = Record<string, Record<string, unknown>>;
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Instance {
    constructor(module: Module, imports: Imports);
    readonly exports: Record<string, unknown>;
  }
  class Memory {
    readonly buffer: ArrayBuffer;
  }
  class RuntimeError extends Error {}
}

const modules = new Map<string, WebAssembly.Module>();
const RESULT_FD = 3;
/** WASI errnos that mean "not allowed here": EACCES, EBADF (no such preopen), EPERM, EROFS, ENOTCAPABLE. */
const DENIED_ERRNOS = new Set([2, 8, 63, 69, 76]);

function send(message: Record<string, unknown>): void {
  const body = Buffer.from(JSON.stringify(message));
  const header = Buffer.alloc(4);
  header.writeUInt32BE(body.length);
  writeAll(RESULT_FD, Buffer.concat([header, body]));
}

function writeAll(fd: number, data: Buffer): void {
  let off = 0;
  while (off < data.length) {
    try {
      off += writeSync(fd, data, off);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
    }
  }
}

/** The WASI imports, wrapped to record refused file and socket calls. */
function importsFor(wasi: WASI, denied: string[]): WebAssembly.Imports {
  const wasiImports = wasi.getImportObject() as { wasi_snapshot_preview1: Record<string, WasiFunction> };
  const wrapped: Record<string, WasiFunction> = {};
  for (const [name, fn] of Object.entries(wasiImports.wasi_snapshot_preview1)) {
    if (name.startsWith('path_') || name.startsWith('sock_')) {
      wrapped[name] = (...args: number[]) => {
        const errno = fn(...args);
        if (name.startsWith('sock_') || DENIED_ERRNOS.has(errno)) denied.push(`${name}: errno ${errno}`);
        return errno;
      };
    } else wrapped[name] = fn;
  }
  return { wasi_snapshot_preview1: wrapped };
}

function runJob(job: Job): Record<string, unknown> {
  const denied: string[] = [];
  let module = modules.get(job.digest);
  if (!module) {
    if (!job.module) return { status: 'module-missing', exitCode: null, denied };
    module = new WebAssembly.Module(Buffer.from(job.module, 'base64'));
    modules.set(job.digest, module);
  }
  const inputPath = `/tmp/aionctl-wasm-stdin-${process.pid}-${job.id}`;
  writeFileSync(inputPath, Buffer.from(job.stdin, 'base64'), { mode: 0o600 });
  const stdinFd = openSync(inputPath, 'r');
  unlinkSync(inputPath);
  let memory: WebAssembly.Memory | undefined;
  try {
    const wasi = new WASI({
      version: 'preview1',
      args: job.args,
      env: job.env,
      preopens: job.preopens,
      stdin: stdinFd,
      stdout: 1,
      stderr: 2,
      returnOnExit: true,
    });
    const instance = new WebAssembly.Instance(module, importsFor(wasi, denied));
    memory = instance.exports.memory as WebAssembly.Memory | undefined;
    const exitCode = wasi.start(instance);
    if (exitCode !== 0 && atCap(memory, job.memoryPages)) return { status: 'memory', exitCode, denied };
    return { status: 'exit', exitCode, denied };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (atCap(memory, job.memoryPages) || /out of memory|Cannot allocate|Maximum memory size/i.test(message))
      return { status: 'memory', exitCode: null, message, denied };
    if (err instanceof WebAssembly.RuntimeError) return { status: 'trap', exitCode: null, message, denied };
    return { status: 'error', exitCode: null, message, denied };
  } finally {
    closeSync(stdinFd);
  }
}

function atCap(memory: WebAssembly.Memory | undefined, pages: number): boolean {
  return memory !== undefined && memory.buffer.byteLength >= pages * 65536;
}

let pending = Buffer.alloc(0);
process.stdin.on('data', (chunk: Buffer) => {
  pending = Buffer.concat([pending, chunk]);
  while (pending.length >= 4) {
    const length = pending.readUInt32BE(0);
    if (pending.length < 4 + length) break;
    const job = JSON.parse(pending.subarray(4, 4 + length).toString('utf8')) as Job;
    pending = pending.subarray(4 + length);
    const result = runJob(job);
    const boundary = Buffer.from(`\0${job.boundary}\n`);
    writeAll(1, boundary);
    writeAll(2, boundary);
    send({ type: 'result', id: job.id, ...result });
  }
});
process.stdin.on('end', () => process.exit(0));
send({ type: 'ready', pid: process.pid });
