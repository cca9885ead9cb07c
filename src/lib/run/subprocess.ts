/**
 * The subprocess runtime: `runtime.command` as argv (execa, no shell) inside the sandbox, JSON on stdin and
 * stdout, stderr streamed with a cap. A timeout sends SIGTERM to the whole process group, then SIGKILL after a
 * grace period; inside bubblewrap the sandbox's pid namespace dies with it (--die-with-parent).
 */
import { realpathSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import type { Env } from '../config/index.js';
import { type Bind, sandboxArgv, type SandboxSpec, type SandboxTools, which } from './sandbox.js';
import { PACKAGE_GUEST } from './layout.js';

export interface SubprocessJob {
  command: string[];
  packageDir: string;
  binds: Bind[];
  env: Record<string, string>;
  stdin: Buffer;
  timeoutMs: number;
  graceMs: number;
  maxOutputBytes: number;
  maxStderrBytes: number;
  limits: SandboxSpec['limits'];
  network: 'deny' | 'allow';
  callerEnv: Env;
  signal?: AbortSignal;
  onStderr?: (data: string) => void;
}

export interface SubprocessResult {
  status: 'exit' | 'timeout' | 'output-cap' | 'cancelled' | 'spawn-failed';
  exitCode: number | null;
  signal: string | null;
  stdout: Buffer;
  stderr: string;
  message?: string;
}

const SYSTEM_PREFIXES = ['/usr/', '/bin/', '/sbin/', '/lib/', '/lib64/'];
export const SANDBOX_PATH = '/usr/local/bin:/usr/bin:/bin';

/** argv[0] as the sandbox sees it, plus a bind for its install prefix when it lives outside the system paths. */
function resolveCommand(job: SubprocessJob, tools: SandboxTools): { argv: string[]; binds: Bind[] } {
  const [first, ...rest] = job.command;
  const binds: Bind[] = [];
  if (first!.includes('/')) {
    const inPackage = isAbsolute(first!)
      ? first!
      : join(tools.kind === 'none' ? job.packageDir : PACKAGE_GUEST, first!);
    return { argv: [inPackage, ...rest], binds };
  }
  const found = which(first!, {
    PATH: tools.kind === 'none' ? (job.callerEnv.PATH ?? SANDBOX_PATH) : `${SANDBOX_PATH}:${job.callerEnv.PATH ?? ''}`,
  });
  if (!found) return { argv: job.command, binds };
  const real = realpathSync(found);
  if (tools.kind === 'bwrap' && !SYSTEM_PREFIXES.some((p) => real.startsWith(p))) {
    const prefix = dirname(dirname(real));
    binds.push({ host: prefix, guest: prefix, mode: 'ro' });
  }
  return { argv: [real, ...rest], binds };
}

export async function runSubprocess(job: SubprocessJob, tools: SandboxTools): Promise<SubprocessResult> {
  const { execa } = await import('execa');
  const { argv: command, binds: extra } = resolveCommand(job, tools);
  const spec: SandboxSpec = {
    network: job.network,
    binds: [...extra, ...job.binds],
    env: job.env,
    cwd: PACKAGE_GUEST,
    limits: job.limits,
  };
  const argv = sandboxArgv(tools, spec, command);
  const [file, ...args] = argv;
  const child = execa(file!, args, {
    cwd: tools.kind === 'none' ? job.packageDir : '/',
    env: tools.kind === 'none' ? job.env : {},
    extendEnv: false,
    input: job.stdin,
    detached: true,
    buffer: false,
    reject: false,
    stripFinalNewline: false,
    encoding: 'buffer',
  });
  const out: Buffer[] = [];
  let outBytes = 0;
  let errText = '';
  let errBytes = 0;
  let failure: SubprocessResult['status'] | undefined;
  let graceTimer: NodeJS.Timeout | undefined;
  const group = (sig: NodeJS.Signals) => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, sig);
    } catch {
      // already gone
    }
  };
  const stop = (status: SubprocessResult['status'], immediate = false) => {
    if (failure) return;
    failure = status;
    if (immediate) return group('SIGKILL');
    group('SIGTERM');
    graceTimer = setTimeout(() => group('SIGKILL'), job.graceMs);
  };
  const timer = setTimeout(() => stop('timeout'), job.timeoutMs);
  const onAbort = () => stop('cancelled');
  if (job.signal?.aborted) onAbort();
  job.signal?.addEventListener('abort', onAbort, { once: true });
  child.stdout!.on('data', (chunk: Buffer) => {
    outBytes += chunk.length;
    if (outBytes > job.maxOutputBytes) return stop('output-cap', true);
    out.push(chunk);
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    if (errBytes < job.maxStderrBytes) {
      const kept = chunk.subarray(0, job.maxStderrBytes - errBytes).toString('utf8');
      errText += kept;
      job.onStderr?.(kept);
    }
    errBytes += chunk.length;
  });
  const result = await child;
  clearTimeout(timer);
  job.signal?.removeEventListener('abort', onAbort);
  // Whatever is left of the group (a grandchild that ignored SIGTERM) dies now.
  group('SIGKILL');
  if (graceTimer) clearTimeout(graceTimer);
  if (!failure && result.failed && result.exitCode === undefined && !result.signal) {
    return {
      status: 'spawn-failed',
      exitCode: null,
      signal: null,
      stdout: Buffer.alloc(0),
      stderr: errText,
      message: result.message,
    };
  }
  return {
    status: failure ?? 'exit',
    exitCode: result.exitCode ?? null,
    signal: result.signal ?? null,
    stdout: Buffer.concat(out),
    stderr: errText,
  };
}
