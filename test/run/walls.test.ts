/**
 * The sandbox walls, each with a real module or script: every escape attempt ends with its own EX code and
 * nothing outside the grants changes.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, readdirSync } from 'node:fs';
import { chmod } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isAionError } from '../../src/lib/errors/index.js';
import { runPackage } from '../../src/lib/run/index.js';
import { tempDir } from '../helpers/cli.js';
import {
  BIG_MAX,
  ECHO as ECHO_WAT,
  context,
  FLOOD,
  FORBIDDEN_IMPORT,
  GROW,
  LOOP,
  makePackage,
  openModule,
  processesMatching,
  scriptPackage,
  shPackage,
  wasmPackage,
} from './helpers.js';

let root: string;
let cleanup: () => Promise<void>;

before(async () => {
  ({ path: root, cleanup } = await tempDir('aionctl-walls-'));
  // Reachable by nobody: as root the sandbox is entered as nobody (so the process limit counts only its processes).
  await chmod(root, 0o755);
});
after(() => cleanup());

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isAionError(err), `expected an AionError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  });
}

describe('run walls: WASM', { timeout: 300_000 }, () => {
  it('a read outside the preopens is denied (EX013) and nothing is read', async () => {
    const pkg = await makePackage(
      join(root, 'read-outside'),
      wasmPackage(openModule('../../../../etc/hostname', false), { permissions: { filesystem: 'read-only' } }),
    );
    const env = await runPackage({ package: pkg, input: {} }, context(root));
    assert.equal(env.ok, false);
    assert.equal(env.error?.code, 'EX013', env.error?.message);
    assert.equal(env.exitCode, 1);
    assert.equal(env.sandbox, 'bwrap');
  });

  it('with filesystem: deny there is no preopen at all (EX013)', async () => {
    const pkg = await makePackage(join(root, 'deny'), wasmPackage(openModule('aip.yaml', false)));
    const env = await runPackage({ package: pkg, input: {} }, context(root));
    assert.equal(env.error?.code, 'EX013', env.error?.message);
  });

  it('read-only: the package files are readable, a write is denied (EX013) and nothing is created', async () => {
    const readable = await makePackage(
      join(root, 'ro-read'),
      wasmPackage(openModule('aip.yaml', false), { permissions: { filesystem: 'read-only' } }),
    );
    const ok = await runPackage({ package: readable, input: {} }, context(root));
    assert.equal(ok.ok, true, JSON.stringify(ok.error));
    assert.deepEqual(ok.output, { ok: true });

    const dir = join(root, 'ro-write');
    const pkg = await makePackage(
      dir,
      wasmPackage(openModule('created.txt', true), { permissions: { filesystem: 'read-only' } }),
    );
    const before = readdirSync(dir).sort();
    const env = await runPackage({ package: pkg, input: {} }, context(root));
    assert.equal(env.error?.code, 'EX013', env.error?.message);
    assert.deepEqual(readdirSync(dir).sort(), before);
  });

  it('read-write: a fresh scratch dir per run, removed afterwards', async () => {
    const tmp = join(root, 'tmp-rw');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(tmp);
    const pkg = await makePackage(
      join(root, 'rw'),
      wasmPackage(openModule('out.txt', true), { permissions: { filesystem: 'read-write' } }),
    );
    const env = await runPackage({ package: pkg, input: {} }, context(root, { TMPDIR: tmp }));
    assert.equal(env.ok, true, JSON.stringify(env));
    assert.deepEqual(readdirSync(tmp), [], 'the scratch dir is gone');
  });

  it('an infinite loop is killed at the timeout (EX010) within timeout + 200 ms', async () => {
    const pkg = await makePackage(join(root, 'loop'), wasmPackage(LOOP, { policies: { timeout_ms: 60000 } }));
    const started = performance.now();
    const env = await runPackage({ package: pkg, input: {}, timeoutMs: 700 }, context(root));
    assert.equal(env.error?.code, 'EX010');
    assert.equal(env.limits.timeoutMs, 700);
    // The host needs its start-up first; the kill itself lands within 200 ms of the timeout.
    assert.ok(env.durationMs < 700 + 200 + 1500, `took ${env.durationMs} ms`);
    assert.ok(performance.now() - started >= 700);
  });

  it('memory growth stops at the cap (EX011); a declared maximum over the cap is refused before start', async () => {
    const grow = await makePackage(join(root, 'grow'), wasmPackage(GROW));
    const env = await runPackage({ package: grow, input: {} }, context(root));
    assert.equal(env.error?.code, 'EX011', env.error?.message);
    assert.equal(env.limits.memoryBytes, 16 * 1024 * 1024);
    const big = await makePackage(join(root, 'bigmax'), wasmPackage(BIG_MAX));
    await rejectsWith(runPackage({ package: big, input: {} }, context(root)), 'EX011');
  });

  it('an import other than wasi_snapshot_preview1 is refused before start (EX021)', async () => {
    const pkg = await makePackage(join(root, 'import'), wasmPackage(FORBIDDEN_IMPORT));
    await rejectsWith(runPackage({ package: pkg, input: {} }, context(root)), 'EX021');
  });

  it('printing without end is stopped at the output cap (EX018)', async () => {
    const pkg = await makePackage(join(root, 'flood'), wasmPackage(FLOOD));
    const env = await runPackage({ package: pkg, input: {}, maxOutputBytes: 1 << 20 }, context(root));
    assert.equal(env.error?.code, 'EX018');
  });
});

describe('run walls: subprocess', { timeout: 300_000 }, () => {
  it('a TCP connection to a listener on 127.0.0.1 never arrives (EX013)', async () => {
    const server = createServer((s) => {
      connections++;
      s.destroy();
    });
    let connections = 0;
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    try {
      const pkg = await makePackage(
        join(root, 'net'),
        scriptPackage(`import { connect } from 'node:net';
const s = connect(${port}, '127.0.0.1');
s.on('connect', () => { process.stdout.write('{"connected":true}'); s.end(); });
s.on('error', (e) => { console.error(e.code); process.exit(1); });`),
      );
      const env = await runPackage({ package: pkg, input: {} }, context(root));
      assert.equal(env.error?.code, 'EX013', JSON.stringify(env));
      assert.equal(connections, 0);
    } finally {
      server.close();
    }
  });

  it('an environment variable that was not granted is not there; a granted secret is, and is redacted', async () => {
    const pkg = await makePackage(
      join(root, 'env'),
      scriptPackage(
        `console.error('token is ' + process.env.API_TOKEN);
if (process.env.NOT_GRANTED === undefined) { console.error('NOT_GRANTED missing'); process.exit(4); }
process.stdout.write('{}');`,
        { permissions: { secrets: ['API_TOKEN'] } },
      ),
    );
    const events: string[] = [];
    const ctx = { ...context(root, { NOT_GRANTED: 'visible', API_TOKEN: 'sekret-value-42' }) };
    ctx.onEvent = (e) => {
      if (e.type === 'stderr') events.push(e.data);
    };
    const env = await runPackage({ package: pkg, input: {} }, ctx);
    assert.equal(env.error?.code, 'EX017');
    assert.equal(env.exitCode, 4);
    const all = JSON.stringify(env) + events.join('');
    assert.match(all, /NOT_GRANTED missing/);
    assert.match(all, /token is \[REDACTED\]/, 'the secret reached the module');
    assert.doesNotMatch(all, /sekret-value-42/);
  });

  it('a required secret that is not set is refused before start (EX019)', async () => {
    const pkg = await makePackage(
      join(root, 'secret'),
      scriptPackage('process.stdout.write("{}")', { permissions: { secrets: ['NEEDED_KEY', 'OPTIONAL_KEY?'] } }),
    );
    await rejectsWith(runPackage({ package: pkg, input: {} }, context(root)), 'EX019');
    const env = await runPackage({ package: pkg, input: {} }, context(root, { NEEDED_KEY: 'x' }));
    assert.equal(env.ok, true, JSON.stringify(env));
    await rejectsWith(
      runPackage({ package: pkg, input: {}, env: ['OTHER'] }, context(root, { NEEDED_KEY: 'x' })),
      'EX029',
    );
  });

  it('printing 100 MB is stopped at the output cap (EX018)', async () => {
    const pkg = await makePackage(
      join(root, 'print'),
      scriptPackage(`const block = Buffer.alloc(1 << 20, 120);
for (let i = 0; i < 100; i++) process.stdout.write(block);`),
    );
    const env = await runPackage({ package: pkg, input: {} }, context(root));
    assert.equal(env.error?.code, 'EX018');
    assert.ok((env.rawOutput?.length ?? 0) <= 64 * 1024 + 3);
  });

  it('forking repeatedly hits the process limit (EX022)', async () => {
    const pkg = await makePackage(
      join(root, 'fork'),
      // An unusual duration, so the leftover check below cannot match anyone else's `sleep`.
      shPackage('i=0\nwhile [ $i -lt 300 ]; do sleep 31339 & i=$((i+1)); done\necho "{}"\n'),
    );
    const env = await runPackage({ package: pkg, input: {} }, context(root));
    assert.equal(env.error?.code, 'EX022', JSON.stringify(env));
    assert.deepEqual(await processesMatching('sleep 31339'), [], 'no sleep survives');
  });

  it('a sleep grandchild does not survive the timeout (EX010), in the sandbox and unconfined', async () => {
    for (const sandbox of ['auto', 'none'] as const) {
      const marker = sandbox === 'auto' ? '31337' : '31338';
      const pkg = await makePackage(
        join(root, `grandchild-${sandbox}`),
        shPackage(`sleep ${marker} &\nsleep ${marker}\n`, { policies: { timeout_ms: 500 } }),
      );
      const env = await runPackage({ package: pkg, input: {}, sandbox }, context(root));
      assert.equal(env.error?.code, 'EX010');
      assert.equal(env.sandbox, sandbox === 'auto' ? 'bwrap' : 'none');
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(await processesMatching(`sleep ${marker}`), [], `a sleep survived (${sandbox})`);
    }
  });

  it('writing into the read-only package is denied (EX013) and the package is unchanged', async () => {
    const dir = join(root, 'sub-ro');
    const pkg = await makePackage(
      dir,
      scriptPackage(`import { writeFileSync } from 'node:fs';
writeFileSync('/pkg/evil.txt', 'x');
process.stdout.write('{}');`),
    );
    const env = await runPackage({ package: pkg, input: {} }, context(root));
    assert.equal(env.error?.code, 'EX013', JSON.stringify(env));
    assert.equal(existsSync(join(dir, 'evil.txt')), false);
  });
});

describe('run walls: the sandbox itself', { timeout: 300_000 }, () => {
  it('runs as uid 65534 with no capabilities, its own hostname and pid namespace, no network interfaces but lo', async () => {
    const pkg = await makePackage(
      join(root, 'whoami'),
      scriptPackage(`import { readFileSync } from 'node:fs';
import { hostname, networkInterfaces } from 'node:os';
const status = readFileSync('/proc/self/status', 'utf8');
const cap = /CapEff:\\s*(\\S+)/.exec(status)[1];
process.stdout.write(JSON.stringify({ uid: process.getuid(), gid: process.getgid(), cap, host: hostname(),
  pid: process.pid, nets: Object.keys(networkInterfaces()), env: Object.keys(process.env).sort() }));`),
    );
    const env = await runPackage({ package: pkg, input: {} }, context(root, { SOME_VAR: 'x' }));
    assert.equal(env.ok, true, JSON.stringify(env));
    const out = env.output as Record<string, unknown>;
    assert.equal(out.uid, 65534);
    assert.equal(out.gid, 65534);
    assert.equal(out.cap, '0000000000000000');
    assert.equal(out.host, 'aionctl-sandbox');
    assert.ok((out.pid as number) < 10, `pid ${String(out.pid)} is not in a new pid namespace`);
    assert.deepEqual(out.nets, ['lo']);
    assert.deepEqual(out.env, ['HOME', 'LANG', 'PATH', 'PWD', 'TMPDIR']); // SOME_VAR did not get in
  });

  it('a subprocess allocating past the memory cap fails with EX011', async () => {
    const pkg = await makePackage(
      join(root, 'oom'),
      scriptPackage('const b = Buffer.alloc(600 * 1024 * 1024, 1); process.stdout.write(String(b.length));', {
        runtime: { type: 'subprocess', command: ['node', 'main.mjs'], resources: { memory: '128Mi' } },
      }),
    );
    const env = await runPackage({ package: pkg, input: {} }, context(root));
    assert.equal(env.error?.code, 'EX011', JSON.stringify(env));
  });

  it('cancelling a run kills it (EX025)', async () => {
    const pkg = await makePackage(join(root, 'cancel'), wasmPackage(LOOP, { policies: { timeout_ms: 60000 } }));
    const controller = new AbortController();
    const ctx = context(root);
    ctx.signal = controller.signal;
    ctx.onEvent = (e) => {
      if (e.type === 'start') setTimeout(() => controller.abort(), 300);
    };
    const env = await runPackage({ package: pkg, input: {} }, ctx);
    assert.equal(env.error?.code, 'EX025');
  });

  it('an installed package runs by its name from .aionctl/packages/NAME', async () => {
    const project = join(root, 'project');
    await makePackage(join(project, '.aionctl', 'packages', 'echo_pkg'), wasmPackage(ECHO_WAT, { name: 'echo_pkg' }));
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(project, 'sub'), { recursive: true });
    const env = await runPackage({ package: 'echo_pkg', input: { a: 1 } }, context(join(project, 'sub')));
    assert.equal(env.ok, true, JSON.stringify(env));
    assert.deepEqual(env.output, { a: 1 });
    assert.equal(env.package.name, 'echo_pkg');
  });
});
