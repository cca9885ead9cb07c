import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HELLO_WASM_BASE64 } from '../../src/lib/manifest/scaffold.js';
import { parseJson, REPO_ROOT, runCli, tempDir } from '../helpers/cli.js';

describe('init and schema', { timeout: 600_000 }, () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  before(async () => {
    dir = await tempDir();
  });
  after(() => dir.cleanup());

  it('the embedded wasm template is exactly what wabt builds from templates/hello.wat', async () => {
    const wabt = await (await import('wabt')).default();
    const wat = await readFile(join(REPO_ROOT, 'src', 'lib', 'manifest', 'templates', 'hello.wat'), 'utf8');
    const module = wabt.parseWat('hello.wat', wat);
    module.validate();
    assert.equal(Buffer.from(module.toBinary({}).buffer).toString('base64'), HELLO_WASM_BASE64);
  });

  it('init (wasm) writes a package that validates and whose module really runs under WASI', async () => {
    const pkg = join(dir.path, 'My Agent');
    const result = await runCli(['init', pkg, '--json']);
    assert.equal(result.code, 0, result.stderr);
    const out = parseJson<{ name: string; files: string[] }>(result);
    assert.equal(out.name, 'my_agent');
    assert.deepEqual(out.files.sort(), ['aip.yaml', 'module.wasm', 'schemas/input.json', 'schemas/output.json']);
    assert.equal((await runCli(['validate', pkg])).code, 0);
    const run = spawnSync(
      process.execPath,
      [
        '--disable-warning=ExperimentalWarning',
        '--input-type=module',
        '-e',
        `import { WASI } from 'node:wasi'; import { readFileSync } from 'node:fs';
         const wasi = new WASI({ version: 'preview1', args: [], env: {}, returnOnExit: true });
         const instance = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(process.argv[1])), wasi.getImportObject());
         process.exitCode = wasi.start(instance);`,
        join(pkg, 'module.wasm'),
      ],
      { encoding: 'utf8' },
    );
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), { ok: true });
  });

  it('init (subprocess) writes an executable entry point that answers JSON', async () => {
    const pkg = join(dir.path, 'sub');
    const result = await runCli(['init', pkg, '--runtime', 'subprocess', '--name', 'echo_one']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal((await runCli(['validate', pkg])).code, 0);
    assert.ok(((await stat(join(pkg, 'main.mjs'))).mode & 0o100) !== 0, 'main.mjs is executable');
    const run = spawnSync(process.execPath, [join(pkg, 'main.mjs')], { input: '{"a":1,"b":2}', encoding: 'utf8' });
    assert.deepEqual(JSON.parse(run.stdout), { ok: true, keys: 2 });
  });

  it('init refuses to overwrite (SC017) unless --force, and refuses bad names (CI001)', async () => {
    const pkg = join(dir.path, 'twice');
    assert.equal((await runCli(['init', pkg])).code, 0);
    const again = await runCli(['init', pkg]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /SC017: .*already has aip\.yaml/);
    assert.equal((await runCli(['init', pkg, '--force', '--runtime', 'subprocess'])).code, 0);
    const bad = await runCli(['init', join(dir.path, 'x'), '--name', 'Bad Name']);
    assert.equal(bad.code, 2);
  });

  it('schema KIND prints the schema; --output writes all of them', async () => {
    const one = await runCli(['schema', 'agent-package']);
    assert.equal(one.code, 0);
    assert.equal(JSON.parse(one.stdout).$id, 'https://aionos.dev/schemas/aip/v1/agent-package.schema.json');
    const out = join(dir.path, 'schemas');
    assert.equal((await runCli(['schema', '--output', out])).code, 0);
    assert.deepEqual((await readdir(out)).sort(), [
      'agent-package.schema.json',
      'aionctl-config.schema.json',
      'intents.schema.json',
      'models.schema.json',
      'modules.schema.json',
      'onex-metadata.schema.json',
      'policies.schema.json',
    ]);
    assert.equal((await runCli(['schema', 'nope'])).code, 2);
  });
});
