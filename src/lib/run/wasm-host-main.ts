/**
 * The WASM host: a separate Node process (started with --no-turbo-fast-api-calls and --wasm-max-mem-pages=N,
 * inside the OS sandbox) that runs WASI modules for its parent, one job after another. Only Node built-ins are
 * imported: this file is bound alone into the sandbox.
 *
 * Protocol. Parent -> host on stdin, host -> parent on fd 3: frames of a 4-byte big-endian total length, a 4-byte
 * big-endian JSON length, a JSON object, then raw bytes. The host first sends {type:"ready"}. A job is {id, digest,
 * moduleBytes, stdinBytes, args, env, preopens, boundary, memoryPages, maxOutputBytes} followed by the module (only
 * the first time a digest is sent; compiled modules are kept per digest) and the stdin bytes. A fresh WASI instance
 * runs it; its fd 0 reads the stdin bytes from memory and its fd 1 writes into memory (the WASI `fd_read`/`fd_write`
 * of those two fds are served here, so a run costs no file or pipe I/O: one frame in, one frame out). fd 2 stays
 * the host's own stderr (streamed live); when the run wrote to it, the host then writes `\0<boundary>\n` there so
 * the parent knows where this run's stderr ends. The answer is {type:"result", id, status, exitCode, message,
 * denied, stdoutBytes, stderr} followed by the stdout bytes. Output over `maxOutputBytes` stops the module
 * (status "output-cap").
 */
import { closeSync, openSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { WASI } from 'node:wasi';

interface Job {
  id: number;
  digest: string;
  moduleBytes: number;
  stdinBytes: number;
  args: string[];
  env: Record<string, string>;
  preopens: Record<string, string>;
  boundary: string;
  memoryPages: number;
  maxOutputBytes: number;
  /** Set with the module bytes when the parent turned its memory into the import `aionctl.memory`. */
  memory?: { initial: number; maximum: number };
}

interface Compiled {
  module: WebAssembly.Module;
  memory?: { initial: number; maximum: number };
  /** The memory of the last run, kept when it did not grow: zero-filled and handed to the next run. */
  idle?: WebAssembly.Memory;
}

/** Reused memories are zero-filled before each run: above this size a fresh one is cheaper. */
const REUSE_MAX_PAGES = 64;

type WasiFunction = (...args: never[]) => number;

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
    constructor(descriptor: { initial: number; maximum?: number });
    readonly buffer: ArrayBuffer;
  }
  class RuntimeError extends Error {}
}

const modules = new Map<string, Compiled>();
const RESULT_FD = 3;
/** WASI errnos that mean "not allowed here": EACCES, EBADF (no such preopen), EPERM, EROFS, ENOTCAPABLE. */
const DENIED_ERRNOS = new Set([2, 8, 63, 69, 76]);
const EBADF = 8;
const EINVAL = 28;
const ENOTSUP = 58;

/** The module's stdin fd inside WASI: an empty private regular file (reads are served from memory below). */
const STDIN_FD = (() => {
  const path = `/tmp/aionctl-wasm-stdin-${process.pid}`;
  writeFileSync(path, '', { mode: 0o600 });
  const fd = openSync(path, 'r');
  unlinkSync(path);
  return fd;
})();

class OutputCap extends Error {}

function send(message: Record<string, unknown>, payload?: Buffer[]): void {
  const json = Buffer.from(JSON.stringify(message));
  let total = 4 + json.length;
  for (const p of payload ?? []) total += p.length;
  const header = Buffer.allocUnsafe(8);
  header.writeUInt32BE(total, 0);
  header.writeUInt32BE(json.length, 4);
  writeAll(RESULT_FD, Buffer.concat([header, json, ...(payload ?? [])], 4 + total));
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

interface Io {
  stdin: Buffer;
  position: number;
  stdout: Buffer[];
  stdoutBytes: number;
  maxOutputBytes: number;
  wroteStderr: boolean;
  closed: [boolean, boolean, boolean];
  memory?: WebAssembly.Memory;
}

/** Copies `io.stdin` from `at` into the iovecs; returns the bytes copied. */
function readInto(io: Io, iovs: number, count: number, at: number): number {
  const bytes = new Uint8Array(io.memory!.buffer);
  const view = new DataView(io.memory!.buffer);
  let copied = 0;
  for (let i = 0; i < count && at + copied < io.stdin.length; i++) {
    const ptr = view.getUint32(iovs + i * 8, true);
    const len = view.getUint32(iovs + i * 8 + 4, true);
    const n = Math.min(len, io.stdin.length - at - copied);
    bytes.set(io.stdin.subarray(at + copied, at + copied + n), ptr);
    copied += n;
  }
  return copied;
}

/** The WASI imports: stdin/stdout served from memory, refused file and socket calls recorded. */
function importsFor(wasi: WASI, io: Io, denied: string[], memory: WebAssembly.Memory | undefined): WebAssembly.Imports {
  const real = (wasi.getImportObject() as { wasi_snapshot_preview1: Record<string, WasiFunction> })
    .wasi_snapshot_preview1;
  const call = (name: string, args: unknown[]) => (real[name] as (...a: unknown[]) => number)(...args);
  const wrapped: Record<string, unknown> = { ...real };
  for (const name of Object.keys(real)) {
    if (name.startsWith('path_') || name.startsWith('sock_')) {
      wrapped[name] = (...args: unknown[]) => {
        const errno = call(name, args);
        if (name.startsWith('sock_') || DENIED_ERRNOS.has(errno)) denied.push(`${name}: errno ${errno}`);
        return errno;
      };
    }
  }
  wrapped.fd_read = (fd: number, iovs: number, count: number, nread: number) => {
    if (fd !== 0) return call('fd_read', [fd, iovs, count, nread]);
    if (io.closed[0]) return EBADF;
    const n = readInto(io, iovs, count, io.position);
    io.position += n;
    new DataView(io.memory!.buffer).setUint32(nread, n, true);
    return 0;
  };
  wrapped.fd_pread = (fd: number, iovs: number, count: number, offset: bigint, nread: number) => {
    if (fd !== 0) return call('fd_pread', [fd, iovs, count, offset, nread]);
    if (io.closed[0]) return EBADF;
    const n = readInto(io, iovs, count, Number(offset));
    new DataView(io.memory!.buffer).setUint32(nread, n, true);
    return 0;
  };
  wrapped.fd_seek = (fd: number, offset: bigint, whence: number, result: number) => {
    if (fd !== 0) return call('fd_seek', [fd, offset, whence, result]);
    if (io.closed[0]) return EBADF;
    const base = whence === 0 ? 0 : whence === 1 ? io.position : whence === 2 ? io.stdin.length : NaN;
    const next = base + Number(offset);
    if (!(next >= 0)) return EINVAL;
    io.position = next;
    new DataView(io.memory!.buffer).setBigUint64(result, BigInt(next), true);
    return 0;
  };
  wrapped.fd_tell = (fd: number, result: number) => {
    if (fd !== 0) return call('fd_tell', [fd, result]);
    if (io.closed[0]) return EBADF;
    new DataView(io.memory!.buffer).setBigUint64(result, BigInt(io.position), true);
    return 0;
  };
  wrapped.fd_filestat_get = (fd: number, buf: number) => {
    const errno = call('fd_filestat_get', [fd, buf]);
    // fd 0 is an empty placeholder file: report the size of the input it serves.
    if (fd === 0 && errno === 0) new DataView(io.memory!.buffer).setBigUint64(buf + 32, BigInt(io.stdin.length), true);
    return errno;
  };
  wrapped.fd_write = (fd: number, iovs: number, count: number, nwritten: number) => {
    if (fd === 2 && !io.closed[2]) io.wroteStderr = true;
    if (fd !== 1) return fd === 2 && io.closed[2] ? EBADF : call('fd_write', [fd, iovs, count, nwritten]);
    if (io.closed[1]) return EBADF;
    const bytes = new Uint8Array(io.memory!.buffer);
    const view = new DataView(io.memory!.buffer);
    let written = 0;
    for (let i = 0; i < count; i++) {
      const ptr = view.getUint32(iovs + i * 8, true);
      const len = view.getUint32(iovs + i * 8 + 4, true);
      if (len === 0) continue;
      if (io.stdoutBytes + len > io.maxOutputBytes) throw new OutputCap();
      io.stdout.push(Buffer.from(bytes.subarray(ptr, ptr + len)));
      io.stdoutBytes += len;
      written += len;
    }
    view.setUint32(nwritten, written, true);
    return 0;
  };
  // The host's own fds 0-2 stay open for the next run: closing them only closes them for this module.
  wrapped.fd_close = (fd: number) => {
    if (fd > 2) return call('fd_close', [fd]);
    if (io.closed[fd as 0 | 1 | 2]) return EBADF;
    io.closed[fd as 0 | 1 | 2] = true;
    return 0;
  };
  wrapped.fd_renumber = (from: number, to: number) =>
    from <= 2 || to <= 2 ? ENOTSUP : call('fd_renumber', [from, to]);
  return memory ? { wasi_snapshot_preview1: wrapped, aionctl: { memory } } : { wasi_snapshot_preview1: wrapped };
}

function runJob(job: Job, compiled: Compiled | undefined, io: Io): Record<string, unknown> {
  const denied: string[] = [];
  if (!compiled) return { status: 'module-missing', exitCode: null, denied };
  let memory: WebAssembly.Memory | undefined;
  if (compiled.memory) {
    memory = compiled.idle;
    compiled.idle = undefined;
    if (memory) new Uint8Array(memory.buffer).fill(0);
    else memory = new WebAssembly.Memory(compiled.memory);
  }
  try {
    return runInstance(job, compiled.module, io, denied, memory);
  } finally {
    const pages = compiled.memory?.initial ?? Infinity;
    if (memory && pages <= REUSE_MAX_PAGES && memory.buffer.byteLength === pages * 65536) compiled.idle = memory;
  }
}

function runInstance(
  job: Job,
  module: WebAssembly.Module,
  io: Io,
  denied: string[],
  memory: WebAssembly.Memory | undefined,
): Record<string, unknown> {
  try {
    const wasi = new WASI({
      version: 'preview1',
      args: job.args,
      env: job.env,
      preopens: job.preopens,
      stdin: STDIN_FD,
      stdout: 1,
      stderr: 2,
      returnOnExit: true,
    });
    const instance = new WebAssembly.Instance(module, importsFor(wasi, io, denied, memory));
    io.memory = instance.exports.memory as WebAssembly.Memory | undefined;
    const exitCode = wasi.start(instance);
    if (exitCode !== 0 && atCap(io.memory, job.memoryPages)) return { status: 'memory', exitCode, denied };
    return { status: 'exit', exitCode, denied };
  } catch (err) {
    if (err instanceof OutputCap) return { status: 'output-cap', exitCode: null, denied };
    const message = err instanceof Error ? err.message : String(err);
    if (atCap(io.memory, job.memoryPages) || /out of memory|Cannot allocate|Maximum memory size/i.test(message))
      return { status: 'memory', exitCode: null, message, denied };
    if (err instanceof WebAssembly.RuntimeError) return { status: 'trap', exitCode: null, message, denied };
    return { status: 'error', exitCode: null, message, denied };
  }
}

function atCap(memory: WebAssembly.Memory | undefined, pages: number): boolean {
  return memory !== undefined && memory.buffer.byteLength >= pages * 65536;
}

function handle(frame: Buffer): void {
  const jsonLength = frame.readUInt32BE(0);
  const job = JSON.parse(frame.subarray(4, 4 + jsonLength).toString('utf8')) as Job;
  let at = 4 + jsonLength;
  let compiled = modules.get(job.digest);
  if (job.moduleBytes > 0) {
    if (!compiled) {
      try {
        compiled = { module: new WebAssembly.Module(frame.subarray(at, at + job.moduleBytes)) };
        if (job.memory) compiled.memory = job.memory;
        modules.set(job.digest, compiled);
      } catch (err) {
        send({ type: 'result', id: job.id, status: 'error', exitCode: null, message: String(err), denied: [] });
        return;
      }
    }
    at += job.moduleBytes;
  }
  const io: Io = {
    stdin: frame.subarray(at, at + job.stdinBytes),
    position: 0,
    stdout: [],
    stdoutBytes: 0,
    maxOutputBytes: job.maxOutputBytes,
    wroteStderr: false,
    closed: [false, false, false],
  };
  const result = runJob(job, compiled, io);
  if (io.wroteStderr) writeAll(2, Buffer.from(`\0${job.boundary}\n`));
  send({ type: 'result', id: job.id, ...result, stdoutBytes: io.stdoutBytes, stderr: io.wroteStderr }, io.stdout);
}

// Frames may arrive split or several per read: keep the chunks and cut whole frames off the front.
let chunks: Buffer[] = [];
let buffered = 0;
process.stdin.on('data', (chunk: Buffer) => {
  chunks.push(chunk);
  buffered += chunk.length;
  while (buffered >= 4) {
    const head = chunks[0]!.length >= 4 ? chunks[0]! : Buffer.concat(chunks);
    const length = head.readUInt32BE(0);
    if (buffered < 4 + length) break;
    const all = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, buffered);
    const frame = all.subarray(4, 4 + length);
    const rest = all.subarray(4 + length);
    chunks = rest.length > 0 ? [rest] : [];
    buffered = rest.length;
    handle(frame);
  }
});
process.stdin.on('end', () => {
  closeSync(STDIN_FD);
  process.exit(0);
});
send({ type: 'ready', pid: process.pid });
