import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { inspectModule, prepareModule, type WasmHost, type WasmJob } from '../../src/lib/run/index.js';
import { importMemory } from '../../src/lib/run/wasm-host-memory.js';
import { ECHO, testWasmHost, wat2wasm } from './helpers.js';

const IMPORTS = `
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))`;

/**
 * Writes the byte at 1024 (as a digit), the data byte at 2048 and the memory size in pages (as a digit), then
 * dirties all three (stores 7 at 1024, 'Z' at 2048, grows by `grow` pages): a reused memory that was not reset
 * would show it on the next run.
 */
function stateModule(grow: number, maxPages: number | undefined): string {
  return `(module ${IMPORTS}
  (memory (export "memory") 1 ${maxPages ?? ''})
  (data (i32.const 2048) "A")
  (func (export "_start")
    (i32.store8 (i32.const 3000) (i32.add (i32.const 48) (i32.load8_u (i32.const 1024))))
    (i32.store8 (i32.const 3001) (i32.load8_u (i32.const 2048)))
    (i32.store8 (i32.const 3002) (i32.add (i32.const 48) (memory.size)))
    (i32.store (i32.const 0) (i32.const 3000))
    (i32.store (i32.const 4) (i32.const 3))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (i32.store8 (i32.const 1024) (i32.const 7))
    (i32.store8 (i32.const 2048) (i32.const 90))
    (drop (memory.grow (i32.const ${grow})))))`;
}

/** Writes `n` bytes of 'x' to fd `fd` in 4 KiB writes. */
function writerModule(fd: number, n: number): string {
  return `(module ${IMPORTS}
  (memory (export "memory") 1 1)
  (func (export "_start") (local $left i32)
    (memory.fill (i32.const 4096) (i32.const 120) (i32.const 4096))
    (local.set $left (i32.const ${n}))
    (block $done (loop $more
      (br_if $done (i32.le_s (local.get $left) (i32.const 0)))
      (i32.store (i32.const 0) (i32.const 4096))
      (i32.store (i32.const 4) (select (i32.const 4096) (local.get $left) (i32.gt_s (local.get $left) (i32.const 4096))))
      (drop (call $fd_write (i32.const ${fd}) (i32.const 0) (i32.const 1) (i32.const 8)))
      (local.set $left (i32.sub (local.get $left) (i32.const 4096)))
      (br $more)))))`;
}

describe('warm WASM host: in-memory stdio and reused memories', () => {
  let host: WasmHost;
  before(() => {
    host = testWasmHost();
  });
  after(() => host.close());

  const job = (digest: string, module: Uint8Array, stdin = '', extra: Partial<WasmJob> = {}): WasmJob => ({
    digest,
    module,
    stdin: Buffer.from(stdin),
    args: ['t'],
    env: {},
    preopens: {},
    timeoutMs: 10_000,
    maxOutputBytes: 1 << 20,
    maxStderrBytes: 1 << 16,
    memoryPages: 16,
    ...extra,
  });

  it('the module memory becomes an import with the same limits (a memory without maximum is left alone)', async () => {
    const bytes = prepareModule(await wat2wasm(stateModule(0, 4)), 16).bytes;
    const imported = importMemory(bytes);
    assert.deepEqual({ initial: imported?.initial, maximum: imported?.maximum }, { initial: 1, maximum: 4 });
    const inspected = inspectModule(imported!.bytes);
    assert.deepEqual(inspected.imports.at(-1), { module: 'aionctl', name: 'memory', kind: 'memory' });
    assert.deepEqual(inspected.memories, [{ initial: 1, maximum: 4, shared: false, memory64: false }]);
    assert.ok(inspected.exports.includes('memory'));
    assert.equal(importMemory(await wat2wasm(stateModule(0, undefined))), undefined);
  });

  it('every run starts from a fresh memory: zeroed, data segments re-applied, the initial size', async () => {
    const still = prepareModule(await wat2wasm(stateModule(0, 4)), 16).bytes;
    const grows = prepareModule(await wat2wasm(stateModule(1, 4)), 16).bytes;
    for (const [digest, bytes] of [
      ['sha256:still', still],
      ['sha256:grows', grows],
    ] as const) {
      for (let i = 0; i < 4; i++) {
        const r = await host.run(job(digest, bytes));
        assert.equal(r.status, 'exit', r.message);
        assert.equal(r.stdout.toString(), '0A1', `${digest} run ${i}`);
      }
    }
  });

  it('stdin is served from memory (a 300 KB input comes back byte for byte), stdout too', async () => {
    const echo = await wat2wasm(ECHO);
    const input = JSON.stringify({ text: 'é'.repeat(150_000) });
    const r = await host.run(job('sha256:echo', echo, input));
    assert.equal(r.status, 'exit', r.message);
    assert.equal(r.stdout.toString(), input);
    const empty = await host.run(job('sha256:echo', echo, ''));
    assert.equal(empty.stdout.length, 0);
  });

  it('output over the cap stops the module (output-cap) and the host serves the next run', async () => {
    const big = await wat2wasm(writerModule(1, 100_000));
    const r = await host.run(job('sha256:big', big, '', { maxOutputBytes: 50_000 }));
    assert.equal(r.status, 'output-cap');
    assert.ok(r.stdout.length <= 50_000);
    assert.equal(host.alive, true);
    const ok = await host.run(job('sha256:big', big, '', { maxOutputBytes: 200_000 }));
    assert.equal(ok.status, 'exit');
    assert.equal(ok.stdout.length, 100_000);
  });

  it('stderr is streamed and ends at its boundary; a run without stderr has none', async () => {
    const noisy = await wat2wasm(writerModule(2, 10_000));
    const chunks: string[] = [];
    const r = await host.run(job('sha256:noisy', noisy, '', { onStderr: (d) => chunks.push(d) }));
    assert.equal(r.status, 'exit');
    assert.equal(r.stderr, 'x'.repeat(10_000));
    assert.equal(chunks.join(''), r.stderr);
    assert.equal(r.stdout.length, 0);
    const quiet = await host.run(job('sha256:echo', await wat2wasm(ECHO), '{}'));
    assert.equal(quiet.stderr, '');
    assert.equal(quiet.stdout.toString(), '{}');
  });
});
