/**
 * The daemon's runner until the run library (issue 13) lands: a real WASI runner over warm host processes. It
 * resolves a package directory (loadPackage: schema and file checks), checks the module imports only
 * `wasi_snapshot_preview1`, validates the input and output against the package's schemas (compiled once per schema
 * digest), applies `policies.timeout_ms` (lowered, never raised, by the request) and the memory cap, and answers the
 * `aionctl run --json` envelope. The same function serves the daemon and the in-process (cold) path.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ErrorObject, ValidateFunction } from 'ajv';
import Ajv2020Module from 'ajv/dist/2020.js';
import { AionError, isAionError } from '../errors/index.js';
import { loadPackage } from '../manifest/index.js';
import { LruCache } from './lru.js';
import { Wasm, type WasmModule } from './wasm-api.js';
import { type Host, HostCrashed, HostPool } from './pool.js';
import type { CacheStats, PoolStats, RunContext, RunEnvelope, Runner, RunRequest } from './types.js';

const Ajv2020 = Ajv2020Module.default;

export const HOST_SCRIPT = fileURLToPath(new URL('../../daemon/wasm-host.js', import.meta.url));
export const DEFAULT_OUTPUT_CAP = 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 30_000;

export interface WasmRunnerOptions {
  /** Byte budget shared by the package and schema caches. */
  cacheBytes: number;
  /** Max warm hosts per pool (per runtime + sandbox profile). */
  workers: number;
  /** Hosts kept warm per pool (0 for a one-shot in-process run). */
  minWorkers?: number;
  maxRuns?: number;
  maxRssGrowth?: number;
  nodePath: string;
  outputCap?: number;
}

interface Prepared {
  dir: string;
  name: string;
  version: string;
  digest: string;
  moduleBase64: string;
  timeoutMs: number;
  memoryBytes: number | null;
  pages: number;
  profile: string;
  input?: ValidateFunction;
  output?: ValidateFunction;
  files: string[];
}

/** `256Mi`, `1Gi`, `512M`, `1048576` → bytes. */
export function parseQuantity(value: unknown): number | null {
  if (value === undefined || value === null) return null;
  const m = /^(\d+(?:\.\d+)?)\s*(Ki|Mi|Gi|K|M|G)?$/.exec(String(value).trim());
  if (!m) return null;
  const unit = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, K: 1e3, M: 1e6, G: 1e9 }[m[2] ?? ''] ?? 1;
  return Math.floor(Number(m[1]) * unit);
}

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function schemaErrors(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? [])
    .slice(0, 3)
    .map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`)
    .join('; ');
}

class WasmRunner implements Runner {
  private readonly packages: LruCache<Prepared>;
  private readonly schemas: LruCache<ValidateFunction>;
  private readonly hostPools = new Map<string, HostPool>();
  private readonly ajv = new Ajv2020({ allErrors: true, strict: false });
  private readonly watchedFiles = new Set<string>();

  constructor(private readonly options: WasmRunnerOptions) {
    this.packages = new LruCache('packages', Math.floor(options.cacheBytes * 0.8));
    this.schemas = new LruCache('schemas', Math.floor(options.cacheBytes * 0.2));
  }

  private compileSchema(file: string): { validate: ValidateFunction; file: string } {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new AionError('FS001', `cannot read schema ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`);
    }
    const key = sha256(text);
    let validate = this.schemas.get(key);
    if (!validate) {
      const schema = JSON.parse(text) as Record<string, unknown>;
      delete schema.$id; // the same schema text may be compiled under two digests' keys
      validate = this.ajv.compile(schema);
      this.schemas.set(key, validate, text.length * 4 + 4096, { tags: [file] });
    }
    return { validate, file };
  }

  private prepare(dir: string): Prepared {
    const cached = this.packages.get(dir);
    if (cached) return cached;
    const pkg = loadPackage(dir);
    const m = pkg.manifest as unknown as {
      metadata: { name: string; version: string };
      runtime: { type: string; module?: string; resources?: { memory?: string } };
      permissions?: { filesystem?: string; network?: string };
      entrypoints?: { schema?: { input?: string; output?: string } };
      policies?: { timeout_ms?: number };
    };
    if (m.runtime.type !== 'wasm' || !m.runtime.module)
      throw new AionError(
        'EX050',
        `${m.metadata.name} has runtime ${m.runtime.type}: this runner serves wasm packages`,
        {
          hint: 'run it with --no-daemon',
        },
      );
    const modulePath = join(pkg.dir, m.runtime.module);
    const bytes = readFileSync(modulePath);
    let mod: WasmModule;
    try {
      mod = new Wasm.Module(bytes);
    } catch (err) {
      throw new AionError('EX050', `${modulePath} is not a valid WebAssembly module: ${(err as Error).message}`);
    }
    const foreign = Wasm.Module.imports(mod).filter((i) => i.module !== 'wasi_snapshot_preview1');
    if (foreign.length > 0)
      throw new AionError('EX050', `the module imports ${foreign[0]!.module}.${foreign[0]!.name}`, {
        hint: 'only wasi_snapshot_preview1 imports are allowed',
      });
    const memoryBytes = parseQuantity(m.runtime.resources?.memory);
    const pages = memoryBytes ? Math.max(1, Math.floor(memoryBytes / 65536)) : 16384;
    const files = [pkg.manifestPath, modulePath];
    const input = m.entrypoints?.schema?.input
      ? this.compileSchema(join(pkg.dir, m.entrypoints.schema.input))
      : undefined;
    const output = m.entrypoints?.schema?.output
      ? this.compileSchema(join(pkg.dir, m.entrypoints.schema.output))
      : undefined;
    if (input) files.push(input.file);
    if (output) files.push(output.file);
    const prepared: Prepared = {
      dir: pkg.dir,
      name: m.metadata.name,
      version: m.metadata.version,
      digest: `sha256:${sha256(bytes)}`,
      moduleBase64: bytes.toString('base64'),
      timeoutMs: m.policies?.timeout_ms ?? DEFAULT_TIMEOUT_MS,
      memoryBytes,
      pages,
      profile: `wasm:fs=${m.permissions?.filesystem ?? 'deny'}:net=${m.permissions?.network ?? 'deny'}:pages=${pages}`,
      input: input?.validate,
      output: output?.validate,
      files,
    };
    for (const f of files) this.watchedFiles.add(f);
    this.packages.set(dir, prepared, bytes.length * 2 + pkg.text.length + 4096, { tags: files });
    return prepared;
  }

  private pool(p: Prepared): HostPool {
    let pool = this.hostPools.get(p.profile);
    if (!pool) {
      pool = new HostPool({
        key: p.profile,
        runtime: 'wasm',
        command: this.options.nodePath,
        args: ['--no-turbo-fast-api-calls', `--wasm-max-mem-pages=${p.pages}`, '--no-warnings', HOST_SCRIPT],
        env: {},
        min: this.options.minWorkers ?? 1,
        max: this.options.workers,
        maxRuns: this.options.maxRuns ?? 5000,
        maxRssGrowth: this.options.maxRssGrowth ?? 256 * 1024 * 1024,
      });
      this.hostPools.set(p.profile, pool);
    }
    return pool;
  }

  async run(request: RunRequest, context: RunContext): Promise<RunEnvelope> {
    const start = performance.now();
    const outputBytes = this.options.outputCap ?? DEFAULT_OUTPUT_CAP;
    let p: Prepared | undefined;
    const envelope = (fields: Partial<RunEnvelope>): RunEnvelope => ({
      ok: false,
      output: null,
      error: null,
      exitCode: null,
      durationMs: Math.round((performance.now() - start) * 1000) / 1000,
      attempts: 1,
      runtime: 'wasm',
      sandbox: 'none',
      package: p ? { name: p.name, version: p.version, digest: p.digest } : null,
      limits: {
        timeoutMs: p ? Math.min(p.timeoutMs, request.timeoutMs ?? Infinity) : (request.timeoutMs ?? DEFAULT_TIMEOUT_MS),
        memoryBytes: p?.memoryBytes ?? null,
        outputBytes,
      },
      ...fields,
    });
    const fail = (err: unknown, extra: Partial<RunEnvelope> = {}): RunEnvelope => {
      const e = isAionError(err)
        ? { code: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}) }
        : { code: 'EX001', message: (err as Error).message };
      return envelope({ error: e, ...extra });
    };
    try {
      p = this.prepare(resolve(request.cwd, request.package));
    } catch (err) {
      return fail(err);
    }
    if (p.input && !p.input(request.input))
      return fail(new AionError('EX049', `input fails the input schema: ${schemaErrors(p.input.errors)}`));
    const timeoutMs = Math.min(p.timeoutMs, request.timeoutMs ?? Infinity);
    const pool = this.pool(p);
    // Waiting for a host (or for one to start) is queueing, not run time: the run's own timeout starts once it
    // has a host; the wait is bounded separately.
    const waitMs = Math.max(timeoutMs, 30_000);
    const deadline = AbortSignal.timeout(waitMs);
    const signal = context.signal ? AbortSignal.any([deadline, context.signal]) : deadline;
    let host: Host;
    try {
      host = await pool.acquire(signal);
    } catch {
      return fail(new AionError('EX046', `no warm host became free within ${waitMs} ms`));
    }
    const runStart = performance.now();
    let timer: NodeJS.Timeout | undefined;
    let healthy = false;
    try {
      const input = JSON.stringify(request.input);
      const timedOut = new Promise<'timeout'>((res) => {
        const left = Math.max(0, timeoutMs - (performance.now() - runStart));
        timer = setTimeout(() => res('timeout'), left);
      });
      const job = { digest: p.digest, input, outputCap: outputBytes };
      let answer = await Promise.race([host.send(job), timedOut]);
      if (answer !== 'timeout' && answer.needModule) {
        answer = await Promise.race([host.send({ ...job, module: p.moduleBase64 }), timedOut]);
      }
      if (answer === 'timeout') return fail(new AionError('EX046', `the run timed out after ${timeoutMs} ms`));
      host.digests.add(p.digest);
      if (answer.error) return fail(new AionError('EX046', `the host failed the run: ${answer.error}`));
      healthy = true;
      const raw = answer.stdout ?? '';
      if (answer.exitCode !== 0)
        return fail(new AionError('EX047', `the module exited with status ${answer.exitCode}`), {
          exitCode: answer.exitCode ?? null,
        });
      let output: unknown;
      try {
        if (answer.truncated) throw new Error('truncated');
        output = JSON.parse(raw);
      } catch {
        return fail(
          new AionError('EX048', answer.truncated ? `output is over ${outputBytes} bytes` : 'the output is not JSON'),
          { exitCode: 0, rawOutput: raw.slice(0, 4096) },
        );
      }
      if (p.output && !p.output(output))
        return fail(new AionError('EX048', `output fails the output schema: ${schemaErrors(p.output.errors)}`), {
          exitCode: 0,
          rawOutput: raw.slice(0, 4096),
        });
      return envelope({ ok: true, output, exitCode: 0 });
    } catch (err) {
      if (err instanceof HostCrashed) return fail(new AionError('EX046', `the warm host crashed: ${err.message}`));
      return fail(err);
    } finally {
      clearTimeout(timer);
      pool.release(host, healthy);
    }
  }

  watched(): string[] {
    return [...this.watchedFiles];
  }

  invalidate(path: string): string[] {
    const dropped = [...this.packages.dropTagged(path), ...this.schemas.dropTagged(path).map((k) => `schema:${k}`)];
    return dropped;
  }

  pools(): PoolStats[] {
    return [...this.hostPools.values()].map((p) => p.stats());
  }

  caches(): CacheStats[] {
    return [this.packages.stats(), this.schemas.stats()];
  }

  async close(): Promise<void> {
    await Promise.all([...this.hostPools.values()].map((p) => p.close()));
  }
}

export function createWasmRunner(options: WasmRunnerOptions): Runner {
  return new WasmRunner(options);
}
