/** Test packages for the run walls: real WASM modules (WAT compiled with wabt by scripts/build-examples.mjs) and real scripts. */
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { resolvePaths } from '../../src/lib/config/index.js';
import { createWasmHost, type RunContext, type WasmHost } from '../../src/lib/run/index.js';
import { REPO_ROOT } from '../helpers/cli.js';

export async function wat2wasm(source: string): Promise<Buffer> {
  const script = join(REPO_ROOT, 'scripts', 'build-examples.mjs');
  const { buildWasm } = (await import(script)) as { buildWasm: (src: string) => Promise<Buffer> };
  return buildWasm(source);
}

const WASI = `
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))`;

/** Writes `len` bytes at `ptr` to stdout. */
const WRITE = `
  (func $write (param $ptr i32) (param $len i32)
    (i32.store (i32.const 0) (local.get $ptr))
    (i32.store (i32.const 4) (local.get $len))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))`;

/** A module that writes `text` on stdout and exits `code`. */
export function printModule(text: string, code = 0): string {
  const bytes = Buffer.from(text);
  return `(module ${WASI}
  (memory (export "memory") 1 1)
  (data (i32.const 64) "${[...bytes].map((b) => '\\' + b.toString(16).padStart(2, '0')).join('')}")
  ${WRITE}
  (func (export "_start")
    (call $write (i32.const 64) (i32.const ${bytes.length}))
    ${code ? `(call $proc_exit (i32.const ${code}))` : ''}))`;
}

/** Echoes stdin to stdout (research §B5). */
export const ECHO = `(module ${WASI}
  (memory (export "memory") 1 2)
  (func (export "_start")
    (local $n i32)
    (block $eof
      (loop $next
        (i32.store (i32.const 16) (i32.const 1024))
        (i32.store (i32.const 20) (i32.const 4096))
        (if (call $fd_read (i32.const 0) (i32.const 16) (i32.const 1) (i32.const 24))
          (then (call $proc_exit (i32.const 1))))
        (local.set $n (i32.load (i32.const 24)))
        (br_if $eof (i32.eqz (local.get $n)))
        (i32.store (i32.const 0) (i32.const 1024))
        (i32.store (i32.const 4) (local.get $n))
        (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
        (br $next)))))`;

export const LOOP = `(module ${WASI}
  (memory (export "memory") 1 1)
  (func (export "_start") (loop $l (br $l))))`;

/** Grows memory one page at a time until it fails, then traps. No maximum declared: the runner adds the cap. */
export const GROW = `(module ${WASI}
  (memory (export "memory") 1)
  (func (export "_start")
    (loop $l
      (if (i32.eq (memory.grow (i32.const 1)) (i32.const -1)) (then unreachable))
      (br $l))))`;

/** Declares a 4 GiB maximum. */
export const BIG_MAX = `(module ${WASI}
  (memory (export "memory") 1 65536)
  (func (export "_start")))`;

export const FORBIDDEN_IMPORT = `(module
  (import "env" "host_call" (func $h))
  (memory (export "memory") 1 1)
  (func (export "_start") (call $h)))`;

/** Writes 64 KiB blocks forever. */
export const FLOOD = `(module ${WASI}
  (memory (export "memory") 2 2)
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 1024))
    (i32.store (i32.const 4) (i32.const 65536))
    (loop $l
      (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
      (br $l))))`;

/**
 * Opens `path` relative to the first preopen (fd 3); `create` opens it for writing with O_CREAT and writes "hi".
 * Exits 1 when the open fails, else prints {"ok":true}.
 */
export function openModule(path: string, create: boolean): string {
  const p = Buffer.from(path);
  const ok = Buffer.from('{"ok":true}\n');
  const rights = create ? 64 : 2; // fd_write : fd_read
  return `(module ${WASI}
  (memory (export "memory") 1 1)
  (data (i32.const 128) "${[...p].map((b) => '\\' + b.toString(16).padStart(2, '0')).join('')}")
  (data (i32.const 512) "${[...ok].map((b) => '\\' + b.toString(16).padStart(2, '0')).join('')}")
  (data (i32.const 600) "hi")
  ${WRITE}
  (func (export "_start")
    (if (call $path_open (i32.const 3) (i32.const 0) (i32.const 128) (i32.const ${p.length})
          (i32.const ${create ? 9 : 0}) (i64.const ${rights}) (i64.const 0) (i32.const 0) (i32.const 32))
      (then (call $proc_exit (i32.const 1))))
    ${
      create
        ? `(i32.store (i32.const 40) (i32.const 600))
    (i32.store (i32.const 44) (i32.const 2))
    (drop (call $fd_write (i32.load (i32.const 32)) (i32.const 40) (i32.const 1) (i32.const 48)))`
        : ''
    }
    (call $write (i32.const 512) (i32.const ${ok.length}))))`;
}

export interface PackageSpec {
  name?: string;
  runtime: Record<string, unknown>;
  permissions?: Record<string, unknown>;
  policies?: Record<string, unknown>;
  schema?: { input?: object; output?: object };
  files?: Record<string, string | Buffer>;
  wat?: string;
}

/** Writes a package directory: aip.yaml, the module (from WAT), schemas and files. */
export async function makePackage(dir: string, spec: PackageSpec): Promise<string> {
  await mkdir(dir, { recursive: true });
  const manifest: Record<string, unknown> = {
    apiVersion: 'aionos/v1',
    kind: 'AgentPackage',
    metadata: { name: spec.name ?? 'wall_test', version: '1.0.0' },
    runtime: spec.runtime,
  };
  if (spec.permissions) manifest.permissions = spec.permissions;
  if (spec.policies) manifest.policies = spec.policies;
  if (spec.schema) {
    manifest.entrypoints = {
      schema: {
        ...(spec.schema.input ? { input: 'input.schema.json' } : {}),
        ...(spec.schema.output ? { output: 'output.schema.json' } : {}),
      },
    };
    if (spec.schema.input) await writeFile(join(dir, 'input.schema.json'), JSON.stringify(spec.schema.input));
    if (spec.schema.output) await writeFile(join(dir, 'output.schema.json'), JSON.stringify(spec.schema.output));
  }
  if (spec.wat) await writeFile(join(dir, 'module.wasm'), await wat2wasm(spec.wat));
  for (const [name, content] of Object.entries(spec.files ?? {})) {
    await mkdir(join(dir, name, '..'), { recursive: true });
    await writeFile(join(dir, name), content);
    if (name.endsWith('.sh')) await chmod(join(dir, name), 0o755);
  }
  await writeFile(join(dir, 'aip.yaml'), stringify(manifest));
  return dir;
}

export function wasmPackage(wat: string, extra: Partial<PackageSpec> = {}): PackageSpec {
  return { runtime: { type: 'wasm', wasi: true, module: 'module.wasm', resources: { memory: '16Mi' } }, wat, ...extra };
}

export function scriptPackage(script: string, extra: Partial<PackageSpec> = {}): PackageSpec {
  return {
    runtime: { type: 'subprocess', command: ['node', 'main.mjs'], resources: { memory: '256Mi' } },
    files: { 'main.mjs': script },
    ...extra,
  };
}

export function shPackage(script: string, extra: Partial<PackageSpec> = {}): PackageSpec {
  return {
    runtime: { type: 'subprocess', command: ['/bin/sh', 'main.sh'], resources: { memory: '64Mi' } },
    files: { 'main.sh': script },
    ...extra,
  };
}

export function context(cwd: string, env: Record<string, string | undefined> = {}): RunContext {
  const base = { PATH: process.env.PATH, AIONCTL_HOME: join(cwd, '.home'), TMPDIR: process.env.TMPDIR };
  const merged = { ...base, ...env };
  return { cwd, env: merged, paths: resolvePaths(merged) };
}

/** Processes whose command line contains `needle` (a leftover check). */
export async function processesMatching(needle: string): Promise<number[]> {
  const { readdir, readFile } = await import('node:fs/promises');
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).replaceAll('\0', ' ');
      if (cmd.includes(needle)) pids.push(Number(entry));
    } catch {
      // gone
    }
  }
  return pids;
}

/** A warm WASM host as the tests use it: bwrap, 1 MiB of memory, network denied. */
export function testWasmHost(): WasmHost {
  return createWasmHost({
    sandbox: 'bwrap',
    memoryPages: 16,
    network: 'deny',
    binds: [],
    cpuSeconds: 30,
    maxOpenFiles: 64,
    nodePath: process.execPath,
  });
}
