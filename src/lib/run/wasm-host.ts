/**
 * The parent side of the WASM host (see wasm-host-main.ts for the protocol): starts one sandboxed
 * `node --no-turbo-fast-api-calls` process per profile that serves many runs, one at a time. A timeout, an
 * output over the cap or a cancel kills the whole host (SIGKILL to its process group; the sandbox dies with it),
 * so a busy loop or a blocked read ends within the timeout plus a few milliseconds. A run is one frame each way
 * (stdin in, stdout out, both raw bytes after a JSON header); the module bytes travel only the first time a host
 * sees a digest.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { type Bind, detectSandbox, isSandboxSetupFailure, sandboxArgv, type SandboxTools } from './sandbox.js';
import type { HostProfile, WasmHost, WasmJob, WasmResult } from './types.js';
import { importMemory, type ImportedMemoryModule } from './wasm-host-memory.js';

/** The compiled host script, bound alone into the sandbox. */
export const HOST_SCRIPT = fileURLToPath(new URL('./wasm-host-main.js', import.meta.url));
const HOST_GUEST_SCRIPT = '/aionctl/wasm-host.mjs';
/** Memory the host's own JS needs beyond the module's memory cap (RLIMIT_DATA). */
const HOST_OVERHEAD_BYTES = 256 * 1024 * 1024;
const SYSTEM_PREFIXES = ['/usr/', '/bin/', '/sbin/', '/lib/', '/lib64/'];

interface HostMessage {
  type: 'ready' | 'result';
  id?: number;
  status?: string;
  exitCode?: number | null;
  message?: string;
  denied?: string[];
  /** Whether the run wrote to stderr (then a boundary line ends it there). */
  stderr?: boolean;
  /** The run's stdout (the frame's raw bytes). */
  stdout?: Buffer;
}

/** Module bytes as sent to hosts (memory turned into an import when possible), per digest. */
const shipped = new Map<string, { source: Uint8Array; imported: ImportedMemoryModule | undefined }>();

function shippable(digest: string, bytes: Uint8Array): ImportedMemoryModule | undefined {
  const hit = shipped.get(digest);
  if (hit && hit.source === bytes) return hit.imported;
  const imported = importMemory(bytes);
  if (shipped.size >= 64) shipped.clear();
  shipped.set(digest, { source: bytes, imported });
  return imported;
}

/** A frame: 4-byte big-endian total length, 4-byte big-endian JSON length, the JSON, then raw bytes. */
function frame(message: unknown, payload: Uint8Array[]): Buffer {
  const json = Buffer.from(JSON.stringify(message));
  let total = 4 + json.length;
  for (const p of payload) total += p.length;
  const header = Buffer.allocUnsafe(8);
  header.writeUInt32BE(total, 0);
  header.writeUInt32BE(json.length, 4);
  return Buffer.concat([header, json, ...payload], 4 + total);
}

/** The argv that starts a host for `profile`. */
export function hostArgv(profile: HostProfile, tools: SandboxTools): string[] {
  const node = realpathSync(profile.nodePath);
  const flags = [
    '--no-turbo-fast-api-calls',
    `--wasm-max-mem-pages=${profile.memoryPages}`,
    '--disable-warning=ExperimentalWarning',
    '--max-old-space-size=128',
  ];
  const memoryBytes = profile.memoryPages * 65536 + HOST_OVERHEAD_BYTES;
  const limits = { dataBytes: memoryBytes, cpuSeconds: profile.cpuSeconds, openFiles: profile.maxOpenFiles };
  if (tools.kind === 'none')
    return sandboxArgv(tools, { network: 'allow', binds: [], env: {}, cwd: '/', limits }, [
      node,
      ...flags,
      HOST_SCRIPT,
    ]);
  const binds: Bind[] = [{ host: HOST_SCRIPT, guest: HOST_GUEST_SCRIPT, mode: 'ro' }];
  if (!SYSTEM_PREFIXES.some((p) => node.startsWith(p))) {
    const prefix = dirname(dirname(node));
    binds.push({ host: prefix, guest: prefix, mode: 'ro' });
  }
  binds.push(...profile.binds);
  return sandboxArgv(tools, { network: profile.network, binds, env: {}, cwd: '/', limits }, [
    node,
    ...flags,
    HOST_GUEST_SCRIPT,
  ]);
}

class Host implements WasmHost {
  private child: ChildProcess;
  private ready: Promise<void>;
  private results: Array<(m: HostMessage) => void> = [];
  private queue: Promise<unknown> = Promise.resolve();
  private stderrListener?: (chunk: Buffer) => void;
  private exited = false;
  private startupStderr = '';
  private nextId = 1;
  private exitWaiters: Array<() => void> = [];
  /** Digests whose compiled module this host keeps (the bytes are not sent again). */
  private readonly loaded = new Set<string>();
  /** Per-host secret of the stderr boundary lines (a module cannot forge the end of its own stderr). */
  private readonly secret = randomBytes(16).toString('hex');

  constructor(
    readonly profile: HostProfile,
    tools: SandboxTools,
  ) {
    const [command, ...args] = hostArgv(profile, tools);
    this.child = spawn(command!, args, {
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
      detached: true,
      env: {},
      cwd: '/',
    });
    const control = this.child.stdio[3] as Readable;
    let chunks: Buffer[] = [];
    let buffered = 0;
    let resolveReady: () => void;
    let rejectReady: (err: Error) => void;
    this.ready = new Promise<void>((res, rej) => {
      resolveReady = res;
      rejectReady = rej;
    });
    this.ready.catch(() => undefined);
    control.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      buffered += chunk.length;
      while (buffered >= 8) {
        const head = chunks[0]!.length >= 4 ? chunks[0]! : Buffer.concat(chunks);
        const length = head.readUInt32BE(0);
        if (buffered < 4 + length) break;
        const all = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, buffered);
        const jsonLength = all.readUInt32BE(4);
        const message = JSON.parse(all.subarray(8, 8 + jsonLength).toString('utf8')) as HostMessage;
        message.stdout = all.subarray(8 + jsonLength, 4 + length);
        const rest = all.subarray(4 + length);
        chunks = rest.length > 0 ? [rest] : [];
        buffered = rest.length;
        if (message.type === 'ready') resolveReady();
        else this.results.shift()?.(message);
      }
    });
    // The module's stdout comes back in the result frame; the host writes nothing here (drained all the same).
    this.child.stdout!.on('data', () => undefined);
    this.child.stderr!.on('data', (c: Buffer) => {
      if (this.stderrListener) this.stderrListener(c);
      else if (this.startupStderr.length < 8192) this.startupStderr += c.toString('utf8');
    });
    (this.child.stdin as Writable).on('error', () => undefined);
    this.child.on('error', (err) => rejectReady(err));
    this.child.on('close', (code, signal) => {
      this.exited = true;
      rejectReady(new HostStartError(this.startupStderr));
      const message = `the WASM host exited (${signal ? `signal ${signal}` : `status ${code}`})`;
      for (const r of this.results.splice(0)) r({ type: 'result', status: 'host-exited', message });
      for (const w of this.exitWaiters.splice(0)) w();
    });
  }

  get alive(): boolean {
    return !this.exited;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Kills the host and its sandbox (its whole process group). */
  kill(): void {
    if (this.exited || this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, 'SIGKILL');
    } catch {
      this.child.kill('SIGKILL');
    }
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const done = new Promise<void>((r) => this.exitWaiters.push(r));
    (this.child.stdin as Writable).end();
    const timer = setTimeout(() => this.kill(), 1000);
    await done;
    clearTimeout(timer);
  }

  run(job: WasmJob): Promise<WasmResult> {
    const next = this.queue.then(() => this.runNow(job));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async runNow(job: WasmJob): Promise<WasmResult> {
    const started = performance.now();
    const empty = (status: WasmResult['status'], message: string): WasmResult => ({
      status,
      exitCode: null,
      stdout: Buffer.alloc(0),
      stderr: '',
      message,
      denied: [],
      durationMs: performance.now() - started,
    });
    if (this.exited) return empty('host-failed', 'the WASM host is not running');
    try {
      await this.ready;
    } catch (err) {
      const stderr = err instanceof HostStartError ? err.stderr : String(err);
      return { ...empty('host-failed', stderr.trim() || 'the WASM host exited at start'), stderr };
    }
    const id = this.nextId++;
    const boundary = `${this.secret}-${id}`;
    const marker = Buffer.from(`\0${boundary}\n`);
    let errText = '';
    let errBytes = 0;
    let errDone = false;
    let failure: WasmResult['status'] | undefined;
    let errTail = Buffer.alloc(0);
    const sendModule = job.module !== undefined && !this.loaded.has(job.digest);

    const answer = await new Promise<WasmResult | 'module-missing'>((resolve) => {
      let result: HostMessage | undefined;
      const finish = () => {
        if (!result) return;
        if (result.stderr && !errDone && !failure && result.status !== 'host-exited') return;
        clearTimeout(timer);
        job.signal?.removeEventListener('abort', onAbort);
        this.stderrListener = undefined;
        if (!failure && result.status === 'module-missing' && job.module) return resolve('module-missing');
        if (!result.stderr && errTail.length > 0 && errBytes < job.maxStderrBytes) errText += errTail.toString('utf8'); // the host's own stray stderr, not the module's
        const status = (failure ??
          (result.status === 'host-exited'
            ? 'host-failed'
            : result.status === 'error' || result.status === 'module-missing'
              ? 'host-failed'
              : result.status)) as WasmResult['status'];
        resolve({
          status,
          exitCode: result.exitCode ?? null,
          stdout: failure || !result.stdout ? Buffer.alloc(0) : Buffer.from(result.stdout),
          stderr: errText,
          message: result.message ?? (result.status === 'module-missing' ? 'module not cached' : undefined),
          denied: result.denied ?? [],
          durationMs: performance.now() - started,
        });
      };
      const fail = (status: WasmResult['status']) => {
        if (failure) return;
        failure = status;
        this.kill();
      };
      const onAbort = () => fail('cancelled');
      const timer = setTimeout(() => fail('timeout'), job.timeoutMs);
      if (job.signal?.aborted) onAbort();
      job.signal?.addEventListener('abort', onAbort, { once: true });

      this.stderrListener = (chunk) => {
        if (errDone) return;
        const data = errTail.length > 0 ? Buffer.concat([errTail, chunk]) : chunk;
        const at = data.indexOf(marker);
        const body = at >= 0 ? data.subarray(0, at) : data.subarray(0, Math.max(0, data.length - marker.length));
        errTail = at >= 0 ? Buffer.alloc(0) : Buffer.from(data.subarray(body.length));
        if (errBytes < job.maxStderrBytes) {
          const kept = body.subarray(0, job.maxStderrBytes - errBytes).toString('utf8');
          errText += kept;
          if (kept) job.onStderr?.(kept);
        }
        errBytes += body.length;
        if (at >= 0) {
          errDone = true;
          finish();
        }
      };
      this.results.push((message) => {
        result = message;
        finish();
      });
      const payload: Uint8Array[] = [];
      const imported = sendModule ? shippable(job.digest, job.module!) : undefined;
      const moduleBytes = sendModule ? (imported?.bytes ?? job.module!) : undefined;
      if (moduleBytes) {
        payload.push(moduleBytes);
        this.loaded.add(job.digest);
      }
      payload.push(job.stdin);
      const message = {
        id,
        digest: job.digest,
        moduleBytes: moduleBytes?.length ?? 0,
        ...(imported ? { memory: { initial: imported.initial, maximum: imported.maximum } } : {}),
        stdinBytes: job.stdin.length,
        args: job.args,
        env: job.env,
        preopens: job.preopens,
        boundary,
        memoryPages: job.memoryPages,
        maxOutputBytes: job.maxOutputBytes,
      };
      (this.child.stdin as Writable).write(frame(message, payload));
    });
    if (answer !== 'module-missing') return answer;
    // The host lost the compiled module (it cannot, short of a bug): send the bytes once more.
    this.loaded.delete(job.digest);
    return this.runNow(job);
  }
}

class HostStartError extends Error {
  constructor(readonly stderr: string) {
    super(isSandboxSetupFailure(stderr) ? `sandbox setup failed: ${stderr.trim()}` : 'the WASM host exited at start');
  }
}

/** Starts a WASM host for `profile` (sandboxed with bubblewrap unless the profile says `none`). */
export function createWasmHost(profile: HostProfile, tools?: SandboxTools): WasmHost {
  const sandbox =
    tools ?? detectSandbox(profile.sandbox === 'none' ? 'none' : 'bwrap', { PATH: '/usr/local/bin:/usr/bin:/bin' });
  return new Host(profile, sandbox);
}
