/** The run contracts: schemas, retries, timeout override, warm host reuse, sandbox refusal, module checks, CLI. */
import assert from 'node:assert/strict';
import { chmod, chown, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isAionError } from '../../src/lib/errors/index.js';
import {
  compileSchemas,
  inspectModule,
  parseDirGrant,
  prepareModule,
  resolveRunnable,
  runPackage,
  schemaCacheSize,
  grantDirs,
} from '../../src/lib/run/index.js';
import { parseJson, REPO_ROOT, runCli, tempDir } from '../helpers/cli.js';
import {
  context,
  ECHO,
  GROW,
  LOOP,
  makePackage,
  printModule,
  scriptPackage,
  wasmPackage,
  wat2wasm,
  testWasmHost,
} from './helpers.js';

let root: string;
let cleanup: () => Promise<void>;
before(async () => {
  ({ path: root, cleanup } = await tempDir('aionctl-run-'));
  await chmod(root, 0o755);
});
after(() => cleanup());

const OBJECT_WITH_TEXT = {
  type: 'object',
  required: ['text'],
  properties: { text: { type: 'string' } },
  additionalProperties: false,
};

describe('run contracts', { timeout: 300_000 }, () => {
  it('input is validated before start (EX014), output after (EX016); schemas compile once per digest', async () => {
    const pkg = await makePackage(
      join(root, 'schemas'),
      wasmPackage(ECHO, { schema: { input: OBJECT_WITH_TEXT, output: { type: 'object', required: ['bytes'] } } }),
    );
    await assert.rejects(runPackage({ package: pkg, input: { text: 3 } }, context(root)), (err: unknown) => {
      assert.ok(isAionError(err) && err.code === 'EX014', String(err));
      return true;
    });
    const env = await runPackage({ package: pkg, input: { text: 'hi' } }, context(root));
    assert.equal(env.error?.code, 'EX016');
    assert.deepEqual(env.output, { text: 'hi' });
    const runnable = await resolveRunnable(pkg, context(root));
    const size = schemaCacheSize();
    const a = await compileSchemas(runnable);
    const b = await compileSchemas(runnable);
    assert.equal(a, b);
    assert.equal(schemaCacheSize(), size);
  });

  it('output that is not JSON is EX015 with the raw output kept', async () => {
    const pkg = await makePackage(join(root, 'notjson'), wasmPackage(printModule('hello, not json\n')));
    const env = await runPackage({ package: pkg, input: {} }, context(root));
    assert.equal(env.error?.code, 'EX015');
    assert.equal(env.rawOutput, 'hello, not json\n');
  });

  it('a non-zero exit is EX017 with the code, retried with backoff per policies.retries', async () => {
    const pkg = await makePackage(
      join(root, 'exit3'),
      wasmPackage(printModule('{}', 3), { policies: { retries: 2, timeout_ms: 5000 } }),
    );
    const retries: number[] = [];
    const ctx = context(root);
    ctx.onEvent = (e) => {
      if (e.type === 'retry') retries.push(e.delayMs);
    };
    const env = await runPackage({ package: pkg, input: {} }, ctx);
    assert.equal(env.error?.code, 'EX017');
    assert.equal(env.exitCode, 3);
    assert.equal(env.attempts, 3);
    assert.deepEqual(retries, [200, 400]);
  });

  it('schema errors and refusals are never retried', async () => {
    const pkg = await makePackage(
      join(root, 'noretry'),
      wasmPackage(printModule('nope'), { policies: { retries: 3 } }),
    );
    const env = await runPackage({ package: pkg, input: {} }, context(root));
    assert.equal(env.error?.code, 'EX015');
    assert.equal(env.attempts, 1);
  });

  it('--timeout lowers policies.timeout_ms and never raises it', async () => {
    const pkg = await makePackage(
      join(root, 'timeouts'),
      wasmPackage(printModule('{}'), { policies: { timeout_ms: 1500 } }),
    );
    const up = await runPackage({ package: pkg, input: {}, timeoutMs: 99_999 }, context(root));
    assert.equal(up.limits.timeoutMs, 1500);
    const down = await runPackage({ package: pkg, input: {}, timeoutMs: 1200 }, context(root));
    assert.equal(down.limits.timeoutMs, 1200);
    assert.equal(down.ok, true);
  });

  it('no sandbox available is EX012 saying how to install bubblewrap; --sandbox none runs with a warning', async () => {
    const pkg = await makePackage(join(root, 'nosandbox'), wasmPackage(printModule('{"a":1}')));
    await assert.rejects(
      runPackage({ package: pkg, input: {} }, context(root, { PATH: '/nonexistent' })),
      (err: unknown) => {
        assert.ok(isAionError(err) && err.code === 'EX012', String(err));
        assert.match(err.hint ?? '', /apt-get install bubblewrap/);
        return true;
      },
    );
    const warnings: string[] = [];
    const ctx = context(root, { PATH: '/nonexistent' });
    ctx.onEvent = (e) => {
      if (e.type === 'warning') warnings.push(e.message);
    };
    const env = await runPackage({ package: pkg, input: {}, sandbox: 'none' }, ctx);
    assert.equal(env.ok, true, JSON.stringify(env));
    assert.equal(env.sandbox, 'none');
    assert.match(warnings.join('\n'), /UNCONFINED/);
  });

  it('one warm host serves many runs (fresh WASI instance each), and a timeout kills it within 200 ms', async () => {
    const echo = await wat2wasm(ECHO);
    const loop = prepareModule(await wat2wasm(LOOP), 16).bytes;
    const host = testWasmHost();
    try {
      const job = (i: number) => ({
        digest: 'sha256:echo',
        module: i === 0 ? echo : undefined,
        stdin: Buffer.from(`{"n":${i}}`),
        args: ['echo'],
        env: {},
        preopens: {},
        timeoutMs: 10_000,
        maxOutputBytes: 1 << 20,
        maxStderrBytes: 1 << 16,
        memoryPages: 16,
      });
      for (let i = 0; i < 5; i++) {
        const r = await host.run(job(i));
        assert.equal(r.status, 'exit', r.message);
        assert.equal(r.stdout.toString(), `{"n":${i}}`);
      }
      assert.equal(host.alive, true);
      const r = await host.run({ ...job(9), digest: 'sha256:loop', module: loop, timeoutMs: 300 });
      assert.equal(r.status, 'timeout');
      // Measured here at 300-330 ms on an idle machine; the slack absorbs timer latency on a loaded CI runner.
      assert.ok(r.durationMs < 300 + 500, `killed after ${r.durationMs} ms`);
      await new Promise((res) => setTimeout(res, 50));
      assert.equal(host.alive, false);
    } finally {
      await host.close();
    }
  });

  it('module checks: imports and memory are read without compiling; a memory without maximum gets the cap', async () => {
    const bytes = await wat2wasm(GROW);
    assert.deepEqual(inspectModule(bytes).memories, [
      { initial: 1, maximum: undefined, shared: false, memory64: false },
    ]);
    const prepared = prepareModule(bytes, 7);
    assert.equal(prepared.clamped, true);
    assert.equal(inspectModule(prepared.bytes).memories[0]!.maximum, 7);
    assert.throws(() => inspectModule(Buffer.from('not wasm')), /EX021|valid WASM/);
  });

  it('--dir grants only what the manifest permits', async () => {
    const manifest = (fs: string, paths?: string[]) =>
      ({
        apiVersion: 'aionos/v1',
        kind: 'AgentPackage',
        metadata: { name: 'x', version: '1.0.0' },
        runtime: { type: 'wasm', module: 'm.wasm' },
        permissions: { filesystem: fs, ...(paths ? { paths } : {}) },
      }) as never;
    assert.throws(() => grantDirs(manifest('deny'), root, ['./data']), /EX029|deny/);
    assert.throws(() => grantDirs(manifest('read-only'), root, ['./data:/data:rw']), /only read/);
    assert.throws(() => grantDirs(manifest('read-write', ['data']), root, ['./other']), /outside the paths/);
    const grants = grantDirs(manifest('read-write', ['data']), root, ['./data/sub:/sub:rw']);
    assert.deepEqual(grants.at(-1), { host: join(root, 'data', 'sub'), guest: '/sub', mode: 'rw' });
    assert.deepEqual(parseDirGrant('/srv/in', '/'), { host: '/srv/in', guest: '/mnt/in', mode: 'ro' });
  });
});

describe('aionctl run (CLI)', { timeout: 400_000 }, () => {
  const env = () => ({ AIONCTL_HOME: join(root, 'cli-home') });

  it('the examples run for real: stdout is the output only; --json is the envelope', async () => {
    const wasm = await runCli(['run', 'examples/summarize-wasm', '--input-json', '{"text":"hello big  world"}'], {
      env: env(),
    });
    assert.equal(wasm.code, 0, wasm.stderr);
    assert.deepEqual(JSON.parse(wasm.stdout), { bytes: 28, words: 3 });
    const sub = await runCli(['run', 'examples/echo-subprocess', '--json'], { env: env(), input: '{"hello":[1,2]}' });
    assert.equal(sub.code, 0, sub.stderr);
    const envelope = parseJson<Record<string, unknown>>(sub);
    assert.equal(envelope.ok, true);
    assert.deepEqual(envelope.output, { echo: { hello: [1, 2] } });
    assert.equal(envelope.runtime, 'subprocess');
    assert.equal(envelope.sandbox, 'bwrap');
    assert.deepEqual(Object.keys(envelope).sort(), [
      'attempts',
      'durationMs',
      'error',
      'exitCode',
      'limits',
      'ok',
      'output',
      'package',
      'runtime',
      'sandbox',
    ]);
  });

  it('compiled schema code in the cache is loaded only when it is private to this user', async () => {
    const home = join(root, 'schema-cache-home');
    const pkg = await makePackage(
      join(root, 'schema-cache'),
      wasmPackage(ECHO, { schema: { input: OBJECT_WITH_TEXT } }),
    );
    const run = (input: string) =>
      runCli(['run', pkg, '--input-json', input, '--json', '--no-daemon'], { env: { AIONCTL_HOME: home } });
    assert.equal((await run('{"text":"hi"}')).code, 0);
    const dir = join(home, 'cache', 'run', 'schemas');
    const cached = (await readdir(dir)).filter((f) => f.endsWith('-input-v1.cjs'));
    assert.equal(cached.length, 1);
    const file = join(dir, cached[0]!);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    // Planted code that accepts anything: ignored when another user owns it or group/others may write it (a
    // refused file is then replaced by freshly compiled code, so each case plants it again).
    const plant = async (owner: number, mode: number) => {
      await rm(file);
      await writeFile(file, 'module.exports = function validate() { return true; };\n', { mode });
      await chmod(file, mode);
      await chown(file, owner, owner);
    };
    for (const [owner, mode] of [
      [65534, 0o600],
      [process.getuid!(), 0o666],
    ] as const) {
      await plant(owner, mode);
      const refused = await run('{"text":3}');
      assert.equal(refused.code, 8, refused.stderr);
      assert.equal(parseJson<{ error: { code: string } }>(refused).error.code, 'EX014');
    }
    // The same file, private to us, is what the cache is for: loaded (proof the check above is what refused it).
    await plant(process.getuid!(), 0o600);
    assert.equal((await run('{"text":3}')).code, 0);
  });

  it('a failed run exits 8 with its EX code; bad input JSON is EX026; an unknown package EX028', async () => {
    const pkg = await makePackage(join(root, 'cli-exit'), scriptPackage('process.exit(5)'));
    const failed = await runCli(['run', pkg, '--input-json', '{}', '--json'], { env: env() });
    assert.equal(failed.code, 8);
    const envelope = parseJson<{ error: { code: string }; exitCode: number }>(failed);
    assert.equal(envelope.error.code, 'EX017');
    assert.equal(envelope.exitCode, 5);
    const human = await runCli(['run', pkg, '--input-json', '{}'], { env: env() });
    assert.equal(human.code, 8);
    assert.equal(human.stdout, '');
    assert.match(human.stderr, /EX017/);
    const bad = await runCli(['run', 'examples/summarize-wasm', '--input-json', '{nope'], { env: env() });
    assert.equal(bad.code, 8);
    assert.match(bad.stderr, /EX026/);
    const unknown = await runCli(['run', 'no_such_package', '--input-json', '{}'], { env: env() });
    assert.equal(unknown.code, 8);
    assert.match(unknown.stderr, /EX028/);
  });

  it('a store reference runs only when the trust policy verifies it (ST009, exit 6, otherwise)', async () => {
    const home = join(root, 'store-home');
    const e = { AIONCTL_HOME: home, COSIGN_PASSWORD: 'test-password' };
    const packed = await runCli(['pack', join(REPO_ROOT, 'examples', 'summarize-wasm'), '--json'], { env: e });
    assert.equal(packed.code, 0, packed.stderr);
    const refused = await runCli(['run', 'summarize_text:1.3.0', '--input-json', '{"text":"a b"}'], { env: e });
    assert.equal(refused.code, 6, refused.stderr);
    assert.match(refused.stderr, /ST009/);
    const keys = await runCli(['key', 'generate', '--output-prefix', join(root, 'runkey')], { env: e });
    assert.equal(keys.code, 0, keys.stderr);
    const signed = await runCli(['sign', 'summarize_text:1.3.0', '--key', join(root, 'runkey.key')], { env: e });
    assert.equal(signed.code, 0, signed.stderr);
    const { mkdir, writeFile } = await import('node:fs/promises');
    await mkdir(join(home, 'config'), { recursive: true });
    await writeFile(
      join(home, 'config', 'config.yaml'),
      `trust:\n  - match: "summarize_text"\n    keys: ["${join(root, 'runkey.pub')}"]\n`,
    );
    // The refusal quarantined the digest: a later signature does not release it silently (ST013) ...
    const held = await runCli(['run', 'summarize_text:1.3.0', '--input-json', '{"text":"a b"}'], { env: e, cwd: root });
    assert.equal(held.code, 6, held.stderr);
    assert.match(held.stderr, /ST013/);
    const digest = (JSON.parse(packed.stdout) as { digest: string }).digest;
    const released = await runCli(['quarantine', 'rm', digest], { env: e });
    assert.equal(released.code, 0, released.stderr);
    // ... only `aionctl quarantine rm` does.
    const ok = await runCli(['run', 'summarize_text:1.3.0', '--input-json', '{"text":"a b"}', '--json'], {
      env: e,
      cwd: root,
    });
    assert.equal(ok.code, 0, ok.stderr + ok.stdout);
    const envelope = parseJson<{ output: unknown; package: { digest: string } }>(ok);
    assert.deepEqual(envelope.output, { bytes: 15, words: 2 });
    assert.match(envelope.package.digest, /^sha256:[a-f0-9]{64}$/);
  });
});
