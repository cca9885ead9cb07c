import { spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/cli.js';

export const SUMMARIZE = join(REPO_ROOT, 'examples', 'summarize-wasm');

export async function wat2wasm(name: string, text: string): Promise<Buffer> {
  const wabt = await (await import('wabt')).default();
  const module = wabt.parseWat(name, text);
  module.validate();
  const bytes = Buffer.from(module.toBinary({}).buffer);
  module.destroy();
  return bytes;
}

/** Writes `{}` on stdout after `iterations` loop turns (0: at once; -1: never, an infinite loop). */
export function loopWat(iterations: number): string {
  const body =
    iterations < 0
      ? '(loop $l (br $l))'
      : `(loop $l (local.set $i (i32.add (local.get $i) (i32.const 1))) (br_if $l (i32.lt_u (local.get $i) (i32.const ${iterations}))))`;
  return `(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "{}\\0a")
  (func (export "_start") (local $i i32)
    ${body}
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 3))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))`;
}

/** A package directory with the given module and permissive schemas (any input, an object out). */
export async function makePackage(
  dir: string,
  name: string,
  wat: string,
  options: { timeoutMs?: number } = {},
): Promise<string> {
  await mkdir(join(dir, 'schemas'), { recursive: true });
  await writeFile(join(dir, 'module.wasm'), await wat2wasm(`${name}.wat`, wat));
  await writeFile(
    join(dir, 'schemas', 'in.json'),
    JSON.stringify({ $schema: 'https://json-schema.org/draft/2020-12/schema' }),
  );
  await writeFile(
    join(dir, 'schemas', 'out.json'),
    JSON.stringify({ $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object' }),
  );
  const manifest = (await readFile(join(SUMMARIZE, 'aip.yaml'), 'utf8'))
    .replace('name: summarize_text', `name: ${name}`)
    .replace('schemas/summarize_input.json', 'schemas/in.json')
    .replace('schemas/summarize_output.json', 'schemas/out.json')
    .replace('timeout_ms: 1500', `timeout_ms: ${options.timeoutMs ?? 10000}`);
  await writeFile(join(dir, 'aip.yaml'), manifest);
  return dir;
}

/** A copy of examples/summarize-wasm that a test may edit. */
export async function copySummarize(dir: string): Promise<string> {
  await cp(SUMMARIZE, dir, { recursive: true });
  return dir;
}

export async function tempHome(prefix = 'aionctl-daemon-'): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}

/** Runs a node script with `uid` (root can drop to nobody), returning its stdout. */
export function runAs(uid: number, script: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script], { uid, gid: uid, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('error', reject);
    child.on('close', () => resolve(out.trim()));
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
