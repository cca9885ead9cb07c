import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../helpers/cli.js';

const EXAMPLES = join(REPO_ROOT, 'examples');

/** Runs a WASI command module for real (node:wasi in a child process), stdin in, stdout out. */
function runWasi(module: string, input: string) {
  return spawnSync(
    process.execPath,
    [
      '--disable-warning=ExperimentalWarning',
      '--input-type=module',
      '-e',
      `import { WASI } from 'node:wasi'; import { readFileSync } from 'node:fs';
       const wasi = new WASI({ version: 'preview1', args: [], env: {}, returnOnExit: true });
       const instance = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(process.argv[1])), wasi.getImportObject());
       process.exitCode = wasi.start(instance);`,
      module,
    ],
    { input, encoding: 'utf8' },
  );
}

describe('example packages', { timeout: 60_000 }, () => {
  it('the committed module.wasm is exactly what wabt builds from module.wat', async () => {
    const script = join(REPO_ROOT, 'scripts', 'build-examples.mjs');
    const { buildWasm } = (await import(script)) as { buildWasm: (src: string) => Promise<Buffer> };
    const wat = await readFile(join(EXAMPLES, 'summarize-wasm', 'module.wat'), 'utf8');
    const committed = await readFile(join(EXAMPLES, 'summarize-wasm', 'module.wasm'));
    assert.ok((await buildWasm(wat)).equals(committed), 'run: npm run build:examples');
  });

  it('summarize-wasm counts the bytes and words of its input, for small and multi-chunk inputs', () => {
    const module = join(EXAMPLES, 'summarize-wasm', 'module.wasm');
    const inputs = [
      JSON.stringify({ text: 'hello big  world\n again' }),
      '',
      JSON.stringify({ text: 'lorem ipsum dolor '.repeat(2000) }), // > 4 KiB read buffer: several fd_read calls
    ];
    for (const input of inputs) {
      const run = runWasi(module, input);
      assert.equal(run.status, 0, run.stderr);
      const words = input.split(/[ \t\n\v\f\r]+/).filter(Boolean).length;
      assert.deepEqual(JSON.parse(run.stdout), { bytes: Buffer.byteLength(input), words });
    }
  });

  it('echo-subprocess echoes JSON and rejects invalid JSON with a JSON error and exit 1', () => {
    const script = join(EXAMPLES, 'echo-subprocess', 'echo.mjs');
    const ok = spawnSync(process.execPath, [script], { input: '{"a":[1,2,{"b":null}]}', encoding: 'utf8' });
    assert.equal(ok.status, 0);
    assert.deepEqual(JSON.parse(ok.stdout), { echo: { a: [1, 2, { b: null }] } });
    const bad = spawnSync(process.execPath, [script], { input: '{nope', encoding: 'utf8' });
    assert.equal(bad.status, 1);
    assert.equal(JSON.parse(bad.stderr).error, 'invalid JSON input');
  });
});
