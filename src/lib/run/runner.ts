/**
 * runPackage: resolve the package, check the request against its manifest (schema, secrets, directories, GPU),
 * run it in the sandbox (WASM host or subprocess) with retries, validate the output and return the envelope.
 * Refusals before start throw (AionError: EX, ST, SC...); failures of the run itself come back as an envelope
 * with `ok: false` and the EX code.
 */
import { chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, sep } from 'node:path';
import { LruCache } from '../daemon/lru.js';
import { AionError, isAionError } from '../errors/index.js';
import type { GpuSelection } from '../gpu/index.js';
import { PACKAGE_GUEST, SCRATCH_GUEST, SCRATCH_ROOT_GUEST } from './layout.js';
import { computeLimits, grantDirs, grantSecrets, parseQuantity, redact } from './policy.js';
import { resolveRunnable } from './resolve.js';
import { type Bind, detectSandbox, SANDBOX_UID, type SandboxTools } from './sandbox.js';
import { compileSchemas, schemaErrorText } from './schemas.js';
import { runSubprocess, SANDBOX_PATH, type SubprocessResult } from './subprocess.js';
import type {
  DirGrant,
  HostProfile,
  ModuleCache,
  RunContext,
  RunEnvelope,
  RunError,
  RunLimits,
  Runnable,
  RunRequest,
  WasmResult,
} from './types.js';
import { createWasmHost } from './wasm-host.js';
import { prepareModule, WASM_PAGE } from './wasm-module.js';

const RAW_OUTPUT_CAP = 64 * 1024;
const STDERR_TAIL = 8 * 1024;
const SUBPROCESS_GRACE_MS = 500;
const RETRYABLE = new Set(['EX010', 'EX017']);

interface Attempt {
  error: RunError | null;
  exitCode: number | null;
  stdout: Buffer;
  stderr: string;
}

/** The default prepared-module cache of this process (the daemon passes its own through RunContext.modules). */
export const DEFAULT_MODULE_CACHE_BYTES = 64 * 1024 * 1024;
let defaultModules: ModuleCache | undefined;

/** Prepared module bytes (checked and clamped), cached per package digest and memory cap, LRU by bytes. */
export function preparedModule(runnable: Runnable, pages: number, cache?: ModuleCache): Uint8Array {
  const modules = cache ?? (defaultModules ??= new LruCache<Uint8Array>('modules', DEFAULT_MODULE_CACHE_BYTES));
  const key = `${runnable.identity.digest}:${pages}`;
  const hit = modules.get(key);
  if (hit) return hit;
  const file = join(runnable.dir, runnable.manifest.runtime.module!);
  let raw: Buffer;
  try {
    raw = readFileSync(file);
  } catch (err) {
    throw new AionError('FS001', `cannot read the module ${file}: ${(err as Error).message}`);
  }
  const { bytes } = prepareModule(raw, pages);
  modules.set(key, bytes, bytes.length + 128);
  return bytes;
}

/** Is every component of `path` reachable by "others" (the sandbox runs as nobody when aionctl is root)? */
function reachableByOthers(path: string): boolean {
  const parts = path.split(sep).filter(Boolean);
  let current = '';
  for (let i = 0; i < parts.length; i++) {
    current += `/${parts[i]}`;
    try {
      const st = statSync(current);
      const last = i === parts.length - 1;
      if (st.isDirectory() && (st.mode & 0o001) === 0) return false;
      if (last && (st.mode & 0o004) === 0) return false;
    } catch {
      return false;
    }
  }
  return true;
}

/**
 * As root the sandbox is entered as nobody, which must be able to reach every bound path; when one is private
 * (e.g. under /root) it is entered as root-in-a-user-namespace instead and the process limit is not enforced.
 */
function pinTools(tools: SandboxTools, sources: string[], ctx: RunContext): SandboxTools {
  if (!tools.dropRoot) return tools;
  if (sources.every(reachableByOthers)) return tools;
  ctx.onEvent?.({
    type: 'warning',
    message:
      'running as root with a package or directory only root can read: the process limit is not enforced (make it world-readable)',
  });
  return { ...tools, dropRoot: false };
}

function scratchBase(ctx: RunContext): string {
  return ctx.env.TMPDIR || '/tmp';
}

function classifySubprocess(r: SubprocessResult, limits: RunLimits, tools: SandboxTools): RunError | null {
  const tail = r.stderr.slice(-4096);
  const shared = sharedStatusError(r.status, limits);
  if (shared) return shared;
  switch (r.status) {
    case 'spawn-failed':
      return { code: 'EX030', message: `the module could not be started: ${r.message ?? 'unknown error'}` };
    case 'exit':
      break;
  }
  if (r.exitCode === 0 && !r.signal) return null;
  if (tools.kind === 'bwrap' && r.exitCode === 1 && /^bwrap: /m.test(tail) && r.stdout.length === 0)
    return { code: 'EX012', message: `the sandbox could not be set up: ${tail.trim().split('\n')[0]}` };
  if (r.signal === 'SIGXCPU')
    return { code: 'EX024', message: `the module used up its CPU time limit (${limits.cpuSeconds} s)` };
  if (/out of memory|allocation failed|Cannot allocate memory|ENOMEM|bad_alloc|MemoryError/i.test(tail))
    return { code: 'EX011', message: `the module ran out of memory at the cap (${limits.memoryBytes} bytes)` };
  if (/EAGAIN|Resource temporarily unavailable|Cannot fork|fork: retry/i.test(tail))
    return { code: 'EX022', message: `the module hit the process limit (${limits.maxProcesses} processes)` };
  const denied =
    /EROFS|EACCES|EPERM|Read-only file system|Permission denied/i.test(tail) ||
    (limits.network === 'deny' && /ENETUNREACH|ECONNREFUSED|EAI_AGAIN|Network is unreachable|ENOTFOUND/i.test(tail));
  if (denied) return { code: 'EX013', message: `the sandbox denied the module: ${lastLine(tail)}` };
  if (r.signal) return { code: 'EX023', message: `the module was killed by ${r.signal}` };
  return { code: 'EX017', message: `the module exited with status ${r.exitCode}` };
}

function lastLine(text: string): string {
  const lines = text.trim().split('\n').filter(Boolean);
  return (
    lines.find((l) => /EROFS|EACCES|EPERM|ENETUNREACH|ECONNREFUSED|denied|Read-only/i.test(l)) ??
    lines.at(-1) ??
    ''
  ).slice(0, 300);
}

/** The outcomes both runtimes report the same way (one code, one message). */
function sharedStatusError(status: string, limits: RunLimits): RunError | null {
  switch (status) {
    case 'timeout':
      return { code: 'EX010', message: `the run exceeded its timeout of ${limits.timeoutMs} ms and was killed` };
    case 'output-cap':
      return { code: 'EX018', message: `the module wrote more than ${limits.maxOutputBytes} bytes of output` };
    case 'cancelled':
      return { code: 'EX025', message: 'the run was cancelled' };
    default:
      return null;
  }
}

function classifyWasm(r: WasmResult, limits: RunLimits): RunError | null {
  const shared = sharedStatusError(r.status, limits);
  if (shared) return shared;
  switch (r.status) {
    case 'memory':
      return { code: 'EX011', message: `the module reached the memory cap (${limits.memoryBytes} bytes)` };
    case 'host-failed': {
      const text = `${r.message ?? ''}\n${r.stderr}`;
      if (/^bwrap: /m.test(text))
        return { code: 'EX012', message: `the sandbox could not be set up: ${text.trim().split('\n')[0]}` };
      if (/signal SIGXCPU/.test(text))
        return { code: 'EX024', message: `the module used up its CPU time limit (${limits.cpuSeconds} s)` };
      return { code: 'EX030', message: `the WASM host failed: ${(r.message ?? '').split('\n')[0]}` };
    }
    case 'trap':
      if (r.denied.length > 0)
        return { code: 'EX013', message: `the sandbox denied the module: ${r.denied.slice(0, 3).join(', ')}` };
      return { code: 'EX023', message: `the module trapped: ${r.message ?? 'unreachable'}` };
    default:
      break;
  }
  if (r.exitCode === 0) return null;
  if (r.denied.length > 0)
    return { code: 'EX013', message: `the sandbox denied the module: ${r.denied.slice(0, 3).join(', ')}` };
  return { code: 'EX017', message: `the module exited with status ${r.exitCode}` };
}

/** The GPUs a package asks for: the daemon's scheduler when it passes one (waits for a free device), else discovery now. */
async function selectGpu(
  runnable: Runnable,
  ctx: RunContext,
): Promise<{ selection: GpuSelection; release(): void } | undefined> {
  const gpu = runnable.manifest.runtime.resources?.gpu;
  if (!gpu || (!gpu.required && (!gpu.vendor || gpu.vendor === 'none') && !gpu.count)) return undefined;
  if (runnable.manifest.runtime.type === 'wasm') {
    if (gpu.required)
      throw new AionError('EX027', 'a WASM package cannot require a GPU (runtime.resources.gpu.required)', {
        hint: 'use runtime.type: subprocess for GPU work',
      });
    return undefined;
  }
  const requirement = {
    required: gpu.required,
    vendor: gpu.vendor,
    count: gpu.count,
    memoryBytes: gpu.memory ? parseQuantity(gpu.memory) : undefined,
  };
  if (ctx.gpus) return ctx.gpus(requirement, ctx.signal);
  const { discoverGpus, selectGpus } = await import('../gpu/index.js');
  const discovery = await discoverGpus({ env: ctx.env });
  const selection = selectGpus(requirement, discovery);
  return selection.devices.length > 0 ? { selection, release: () => undefined } : undefined;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });
}

/** Runs a package: see the module comment. */
export async function runPackage(request: RunRequest, ctx: RunContext): Promise<RunEnvelope> {
  const started = performance.now();
  const runnable = await (ctx.resolve ?? resolveRunnable)(request.package, ctx);
  ctx.onEvent?.({ type: 'resolved', package: runnable.identity, source: runnable.source });
  const { manifest } = runnable;
  const runtime = manifest.runtime.type;
  if (runtime !== 'wasm' && runtime !== 'subprocess')
    throw new AionError('EX027', `runtime.type ${String(runtime)} is not supported`);

  // Everything that can refuse happens before anything starts.
  const schemas = await compileSchemas(runnable, { cacheDir: ctx.paths.cache });
  if (schemas.input && !schemas.input(request.input))
    throw new AionError('EX014', `the input does not match the input schema: ${schemaErrorText(schemas.input)}`, {
      hint: `see ${manifest.entrypoints?.schema?.input} in the package`,
    });
  const secrets = grantSecrets(manifest, ctx.env, request.env);
  const dirs = grantDirs(manifest, ctx.cwd, request.dirs);
  const mode = request.sandbox ?? 'auto';
  const tools = (ctx.sandboxTools ?? detectSandbox)(mode, ctx.env);
  // Held from here to the end of the last attempt (nothing below can throw before the try).
  const lease = await selectGpu(runnable, ctx);
  const gpu = lease?.selection;
  const limits = computeLimits(manifest, request, gpu?.devices.map((d) => d.uuid ?? `${d.vendor}:${d.index}`) ?? []);
  if (tools.kind === 'none')
    ctx.onEvent?.({
      type: 'warning',
      message: 'running UNCONFINED (--sandbox none): the module can read and write what you can, and use the network',
    });
  const capPages = Math.max(1, Math.floor(limits.memoryBytes / WASM_PAGE));
  const moduleBytes = runtime === 'wasm' ? preparedModule(runnable, capPages, ctx.modules) : undefined;
  const stdin = Buffer.from(`${JSON.stringify(request.input)}\n`);

  const identity = runnable.identity;
  const envelopeBase = { runtime, sandbox: tools.kind, package: identity, limits } as const;
  const retries = manifest.policies?.retries ?? 0;
  let attempt = 0;
  let last: Attempt;
  try {
    for (;;) {
      attempt++;
      ctx.onEvent?.({ type: 'start', attempt, runtime, sandbox: tools.kind });
      last =
        runtime === 'wasm'
          ? await attemptWasm(runnable, moduleBytes!, capPages, stdin, secrets, dirs, limits, tools, ctx)
          : await attemptSubprocess(runnable, stdin, secrets, dirs, limits, tools, gpu, ctx);
      if (!last.error || !RETRYABLE.has(last.error.code) || attempt > retries || ctx.signal?.aborted) break;
      const delayMs = Math.min(5000, 200 * 2 ** (attempt - 1));
      ctx.onEvent?.({ type: 'retry', attempt: attempt + 1, delayMs, code: last.error.code });
      await sleep(delayMs, ctx.signal);
    }
  } finally {
    lease?.release();
  }

  const finish = (partial: Pick<RunEnvelope, 'ok' | 'output' | 'error'> & { rawOutput?: string }): RunEnvelope => ({
    ...partial,
    ...(partial.error
      ? { error: { code: partial.error.code, message: redact(partial.error.message, secrets.values) } }
      : {}),
    exitCode: last.exitCode,
    durationMs: Math.round(performance.now() - started),
    attempts: attempt,
    ...envelopeBase,
    ...(partial.ok ? {} : { stderr: redact(last.stderr.slice(-STDERR_TAIL), secrets.values) }),
  });
  const text = redact(last.stdout.toString('utf8'), secrets.values);
  const raw = text.length > RAW_OUTPUT_CAP ? `${text.slice(0, RAW_OUTPUT_CAP)}...` : text;
  if (last.error) return finish({ ok: false, output: null, error: last.error, ...(raw ? { rawOutput: raw } : {}) });
  let output: unknown;
  try {
    output = JSON.parse(text);
  } catch {
    return finish({
      ok: false,
      output: null,
      error: { code: 'EX015', message: `the module output is not JSON (${last.stdout.length} bytes)` },
      rawOutput: raw,
    });
  }
  if (schemas.output && !schemas.output(output))
    return finish({
      ok: false,
      output,
      error: {
        code: 'EX016',
        message: `the output does not match the output schema: ${schemaErrorText(schemas.output)}`,
      },
      rawOutput: raw,
    });
  return finish({ ok: true, output, error: null });
}

function makeScratch(ctx: RunContext, tools: SandboxTools): string {
  const dir = mkdtempSync(join(scratchBase(ctx), 'aionctl-run-'));
  if (tools.dropRoot) chownSync(dir, SANDBOX_UID, SANDBOX_UID);
  return dir;
}

async function attemptWasm(
  runnable: Runnable,
  moduleBytes: Uint8Array,
  capPages: number,
  stdin: Buffer,
  secrets: { env: Record<string, string>; values: string[] },
  dirs: DirGrant[],
  limits: RunLimits,
  baseTools: SandboxTools,
  ctx: RunContext,
): Promise<Attempt> {
  const binds: HostProfile['binds'] = [];
  const preopens: Record<string, string> = {};
  let scratchRoot: string | undefined;
  let scratchRun: string | undefined;
  if (limits.filesystem === 'read-only') {
    binds.push({ host: runnable.dir, guest: PACKAGE_GUEST, mode: 'ro' });
    preopens[PACKAGE_GUEST] = baseTools.kind === 'none' ? runnable.dir : PACKAGE_GUEST;
  }
  for (const d of dirs) {
    binds.push({ host: d.host, guest: d.guest, mode: d.mode });
    preopens[d.guest] = baseTools.kind === 'none' ? d.host : d.guest;
  }
  const rw = limits.filesystem === 'read-write';
  const tools = pinTools(baseTools, [...binds.map((b) => b.host), ...(rw ? [scratchBase(ctx)] : [])], ctx);
  if (rw) {
    scratchRoot = makeScratch(ctx, tools);
    binds.push({ host: scratchRoot, guest: SCRATCH_ROOT_GUEST, mode: 'rw' });
  }
  const profile: HostProfile = {
    sandbox: tools.kind,
    memoryPages: capPages,
    network: limits.network,
    binds,
    cpuSeconds: limits.cpuSeconds,
    maxOpenFiles: limits.maxOpenFiles,
    nodePath: ctx.nodePath ?? process.execPath,
  };
  const host = ctx.hosts ? await ctx.hosts.acquire(profile) : createWasmHost(profile, tools);
  let healthy = false;
  try {
    if (scratchRoot) {
      scratchRun = join(scratchRoot, 'run');
      mkdirSync(scratchRun, { mode: 0o700 });
      if (tools.dropRoot) chownSync(scratchRun, SANDBOX_UID, SANDBOX_UID);
      preopens[SCRATCH_GUEST] = tools.kind === 'none' ? scratchRun : `${SCRATCH_ROOT_GUEST}/run`;
    }
    const result = await host.run({
      digest: `${runnable.identity.digest}:${capPages}`,
      module: moduleBytes,
      stdin,
      args: [runnable.identity.name],
      env: secrets.env,
      preopens,
      timeoutMs: limits.timeoutMs,
      maxOutputBytes: limits.maxOutputBytes,
      maxStderrBytes: limits.maxStderrBytes,
      memoryPages: capPages,
      signal: ctx.signal,
      onStderr: (data) => ctx.onEvent?.({ type: 'stderr', data: redact(data, secrets.values) }),
    });
    healthy = host.alive && result.status !== 'timeout' && result.status !== 'output-cap';
    return {
      error: classifyWasm(result, limits),
      exitCode: result.exitCode,
      stdout: result.stdout,
      stderr: result.stderr,
    };
  } finally {
    if (ctx.hosts) ctx.hosts.release(host, healthy);
    else await host.close();
    if (scratchRoot) rmSync(scratchRoot, { recursive: true, force: true });
  }
}

async function attemptSubprocess(
  runnable: Runnable,
  stdin: Buffer,
  secrets: { env: Record<string, string>; values: string[] },
  dirs: DirGrant[],
  limits: RunLimits,
  baseTools: SandboxTools,
  gpu: GpuSelection | undefined,
  ctx: RunContext,
): Promise<Attempt> {
  const none = baseTools.kind === 'none';
  const binds: Bind[] = [{ host: runnable.dir, guest: PACKAGE_GUEST, mode: 'ro' }];
  for (const d of dirs) binds.push({ host: d.host, guest: d.guest, mode: d.mode });
  const rw = limits.filesystem === 'read-write';
  const tools = pinTools(baseTools, [...binds.map((b) => b.host), ...(rw ? [scratchBase(ctx)] : [])], ctx);
  const scratch = rw ? makeScratch(ctx, tools) : undefined;
  if (scratch) binds.push({ host: scratch, guest: SCRATCH_GUEST, mode: 'rw' });
  for (const node of gpu?.deviceNodes ?? []) binds.push({ host: node, guest: node, mode: 'dev' });
  const env: Record<string, string> = {
    PATH: none ? (ctx.env.PATH ?? SANDBOX_PATH) : SANDBOX_PATH,
    HOME: scratch ? (none ? scratch : SCRATCH_GUEST) : '/tmp',
    TMPDIR: '/tmp',
    LANG: 'C.UTF-8',
    ...(scratch ? { AIONCTL_SCRATCH: none ? scratch : SCRATCH_GUEST } : {}),
    ...(gpu?.env ?? {}),
    ...secrets.env,
  };
  try {
    const result = await runSubprocess(
      {
        command: runnable.manifest.runtime.command!,
        packageDir: runnable.dir,
        binds: none ? [] : binds,
        env,
        stdin,
        timeoutMs: limits.timeoutMs,
        graceMs: SUBPROCESS_GRACE_MS,
        maxOutputBytes: limits.maxOutputBytes,
        maxStderrBytes: limits.maxStderrBytes,
        limits: {
          dataBytes: limits.memoryBytes,
          // Runtimes reserve far more address space than they use: the cap is on data, AS only bounds runaways.
          addressSpaceBytes: limits.memoryBytes + 8 * 1024 ** 3,
          cpuSeconds: limits.cpuSeconds,
          openFiles: limits.maxOpenFiles,
          processes: limits.maxProcesses,
        },
        network: limits.network,
        callerEnv: ctx.env,
        signal: ctx.signal,
        onStderr: (data) => ctx.onEvent?.({ type: 'stderr', data: redact(data, secrets.values) }),
      },
      tools,
    );
    return {
      error: classifySubprocess(result, limits, tools),
      exitCode: result.exitCode,
      stdout: result.stdout,
      stderr: result.stderr,
    };
  } catch (err) {
    if (isAionError(err)) throw err;
    return {
      error: { code: 'EX030', message: `the module could not be started: ${(err as Error).message}` },
      exitCode: null,
      stdout: Buffer.alloc(0),
      stderr: '',
    };
  } finally {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
}
