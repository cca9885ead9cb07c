import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DaemonClient, daemonPaths, MAX_SOCKET_PATH, pidAlive, type RunEnvelope } from '../../src/lib/daemon/index.js';
import { fastRun } from '../../src/lib/daemon/fast-run.js';
import { parseJson, REPO_ROOT, runCli } from '../helpers/cli.js';
import { loopWat, makePackage, runAs, sleep, tempHome } from './helpers.js';

const INPUT = JSON.stringify({ text: 'alpha beta gamma delta' });

async function waitGone(pid: number, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (pidAlive(pid) && Date.now() < end) await sleep(20);
  assert.equal(pidAlive(pid), false, `pid ${pid} still alive`);
}

describe('daemon lifecycle through the CLI (a real detached daemon)', () => {
  let home: Awaited<ReturnType<typeof tempHome>>;
  let env: Record<string, string>;

  before(async () => {
    home = await tempHome();
    env = { AIONCTL_HOME: home.path };
  });

  after(async () => {
    await runCli(['daemon', 'stop'], { env });
    await home.cleanup();
  });

  it('start returns once /healthz answers; status --json has the fields; a second start finds it', async () => {
    const started = await runCli(['daemon', 'start', '--json'], { env });
    assert.equal(started.code, 0, started.stderr + started.stdout);
    const result = parseJson<{ action: string; pid: number; socket: string }>(started);
    assert.equal(result.action, 'started');
    const paths = daemonPaths(env);
    assert.equal(result.socket, paths.socket);
    assert.equal((await stat(paths.socket)).mode & 0o777, 0o600);
    assert.equal((await stat(paths.dir)).mode & 0o777, 0o700);
    const record = JSON.parse(await readFile(paths.record, 'utf8')) as { pid: number; buildId: string };
    assert.equal(record.pid, result.pid);
    assert.match(record.buildId, /^[0-9a-f]{16}$/);

    const status = await runCli(['daemon', 'status', '--json'], { env });
    assert.equal(status.code, 0);
    const s = parseJson<Record<string, unknown>>(status);
    for (const key of ['pid', 'socket', 'version', 'uptimeMs', 'runs', 'rss', 'caches', 'pools'])
      assert.ok(key in s, key);
    assert.equal(s.pid, result.pid);

    const again = parseJson<{ action: string; pid: number }>(await runCli(['daemon', 'start', '--json'], { env }));
    assert.deepEqual([again.action, again.pid], ['running', result.pid]);
  });

  it('aionctl run goes through the daemon (fast path) and prints what the in-process run prints', async () => {
    const before = (await new DaemonClient(daemonPaths(env).socket).status()).runs.total;
    const viaDaemon = await runCli(['run', 'examples/summarize-wasm', '--json'], { env, input: INPUT });
    assert.equal(viaDaemon.code, 0, viaDaemon.stderr);
    const after = (await new DaemonClient(daemonPaths(env).socket).status()).runs.total;
    assert.equal(after, before + 1, 'the run was served by the daemon');
    const cold = await runCli(['run', 'examples/summarize-wasm', '--json', '--no-daemon'], { env, input: INPUT });
    assert.equal(cold.code, 0, cold.stderr);
    const strip = (e: RunEnvelope) => ({ ...e, durationMs: 0 });
    assert.deepEqual(strip(parseJson<RunEnvelope>(viaDaemon)), strip(parseJson<RunEnvelope>(cold)));
    // Plain output and a refusal (exit code, message) are identical both ways too.
    for (const args of [
      ['run', 'examples/summarize-wasm'],
      ['run', 'examples/summarize-wasm', '--input-json', '{"nope":1}'],
      ['run', 'examples/summarize-wasm', '--input-json', '{"nope":1}', '--json'],
    ]) {
      const a = await runCli(args, { env, input: INPUT });
      const b = await runCli([...args, '--no-daemon'], { env, input: INPUT });
      assert.deepEqual([a.code, a.stdout, a.stderr], [b.code, b.stdout, b.stderr], args.join(' '));
    }
    // Invalid JSON on stdin: the same EX026 error and exit code both ways (plain and --json).
    for (const args of [
      ['run', 'examples/summarize-wasm'],
      ['run', 'examples/summarize-wasm', '--json'],
    ]) {
      const a = await runCli(args, { env, input: '{not json' });
      const b = await runCli([...args, '--no-daemon'], { env, input: '{not json' });
      assert.equal(a.code, 8, a.stderr);
      assert.match(a.stderr + a.stdout, /EX026/);
      assert.deepEqual([a.code, a.stdout, a.stderr], [b.code, b.stdout, b.stderr], `${args.join(' ')} <bad stdin`);
    }
    const off = await runCli(['run', 'examples/summarize-wasm'], {
      env: { ...env, AIONCTL_DAEMON: 'off' },
      input: INPUT,
    });
    assert.equal(off.code, 0);
    assert.equal((await new DaemonClient(daemonPaths(env).socket).status()).runs.total, after + 3);
  });

  it('no other user can reach the socket (dir 0700, socket 0600)', async () => {
    const socket = daemonPaths(env).socket;
    const script = `require('net').connect(${JSON.stringify(socket)}).on('error', e => { console.log(e.code); process.exit(0) }).on('connect', () => { console.log('CONNECTED'); process.exit(0) })`;
    assert.equal(await runAs(65534, script), 'EACCES');
  });

  it('kill -9 mid-load: clients get a clear error or fall back; the next start cleans up', async () => {
    const paths = daemonPaths(env);
    const pid = (JSON.parse(await readFile(paths.record, 'utf8')) as { pid: number }).pid;
    const client = new DaemonClient(paths.socket, { connections: 16 });
    const request = { package: join(REPO_ROOT, 'examples/summarize-wasm'), input: { text: 'x' }, cwd: REPO_ROOT };
    const runs = Array.from({ length: 200 }, () =>
      client.run(request).then(
        (e) => ({ ok: e.ok, code: '' }),
        (err: { code: string }) => ({ ok: false, code: err.code }),
      ),
    );
    await sleep(100);
    process.kill(pid, 'SIGKILL');
    const results = await Promise.all(runs);
    await client.destroy();
    assert.equal(results.length, 200);
    for (const r of results) assert.ok(r.ok || ['EX044', 'LC032'].includes(r.code), JSON.stringify(r));
    assert.ok(
      results.some((r) => !r.ok),
      'some runs were cut off',
    );
    await waitGone(pid);
    assert.ok(existsSync(paths.socket), 'the socket file survives a SIGKILL');
    // The fast path sees nothing listening and falls through to the cold path (auto) or says so (require).
    const io = { out: '', err: '' };
    const sink = { stdout: (t: string) => (io.out += t), stderr: (t: string) => (io.err += t), readStdin: () => '{}' };
    const args = ['examples/summarize-wasm', '--input-json', '{"text":"a"}'];
    assert.equal(await fastRun(args, env, REPO_ROOT, sink), undefined);
    assert.equal(await fastRun(args, { ...env, AIONCTL_DAEMON: 'require' }, REPO_ROOT, sink), 7);
    assert.match(io.err, /LC032/);
    const status = await runCli(['daemon', 'status', '--json'], { env });
    assert.equal(status.code, 7);
    assert.equal(parseJson<{ running: boolean; stale: string[] }>(status).stale.length, 2);
    const started = parseJson<{ action: string; pid: number }>(await runCli(['daemon', 'start', '--json'], { env }));
    assert.equal(started.action, 'started');
    assert.notEqual(started.pid, pid);
  });

  it('a daemon of another version is asked to exit and replaced', async () => {
    const paths = daemonPaths(env);
    await runCli(['daemon', 'stop'], { env });
    // An "old" daemon: a real process on the socket answering /healthz with another version, exiting on shutdown.
    const old = spawn(
      process.execPath,
      [
        '-e',
        `const fs=require('fs');const s=require('http').createServer((q,r)=>{if(q.url==='/healthz'){r.setHeader('content-type','application/json');r.end(JSON.stringify({ok:true,pid:process.pid,version:'0.0.1',buildId:'old',protocol:1}))}else{r.end('{}');s.close();fs.rmSync(process.argv[1],{force:true});process.exit(0)}});s.listen(process.argv[1],()=>{fs.writeFileSync(process.argv[1]+'.json',JSON.stringify({pid:process.pid,version:'0.0.1',buildId:'old'}));console.log('up')})`,
        paths.socket,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise((r) => old.stdout.once('data', r));
    const result = parseJson<{ action: string; replacedPid: number; version: string }>(
      await runCli(['daemon', 'start', '--json'], { env }),
    );
    assert.equal(result.action, 'replaced');
    assert.equal(result.replacedPid, old.pid);
    assert.notEqual(result.version, '0.0.1');
    await waitGone(old.pid!);
  });

  it('SIGTERM drains in-flight runs, then exits and removes its files; stop reports nothing to stop', async () => {
    const paths = daemonPaths(env);
    const pid = (JSON.parse(await readFile(paths.record, 'utf8')) as { pid: number }).pid;
    const client = new DaemonClient(paths.socket, { connections: 4 });
    const slow = await makePackage(join(home.path, 'slow'), 'slow_loop', loopWat(400_000_000));
    const request = { package: slow, input: {}, cwd: '/' };
    const inFlight = Promise.all([client.run(request), client.run(request)]);
    for (let i = 0; i < 500 && (await client.status()).runs.inFlight < 2; i++) await sleep(10);
    process.kill(pid, 'SIGTERM');
    const done = await inFlight;
    await client.destroy();
    assert.ok(done.every((e) => e.ok));
    await waitGone(pid);
    assert.equal(existsSync(paths.socket), false);
    assert.equal(existsSync(paths.record), false);
    const stop = parseJson<{ stopped: boolean }>(await runCli(['daemon', 'stop', '--json'], { env }));
    assert.equal(stop.stopped, false);
    const logs = parseJson<{ entries: { msg: string }[] }>(await runCli(['daemon', 'logs', '--json'], { env }));
    assert.ok(logs.entries.some((e) => e.msg === 'daemon draining'));
    assert.ok(logs.entries.some((e) => e.msg === 'daemon stopped'));
  });

  it('idles out after daemon.idleTimeoutMs from the config', async () => {
    await mkdir(join(home.path, 'config'), { recursive: true });
    await writeFile(join(home.path, 'config', 'config.yaml'), 'daemon:\n  idleTimeoutMs: 500\n');
    const started = parseJson<{ pid: number }>(await runCli(['daemon', 'start', '--json'], { env }));
    await waitGone(started.pid, 15_000);
    assert.equal(existsSync(daemonPaths(env).socket), false);
    const logs = parseJson<{ entries: { reason?: string }[] }>(await runCli(['daemon', 'logs', '--json'], { env }));
    assert.ok(logs.entries.some((e) => e.reason === 'idle'));
    await writeFile(join(home.path, 'config', 'config.yaml'), 'daemon:\n  idleTimeoutMs: -1\n');
    const bad = await runCli(['daemon', 'start'], { env });
    assert.equal(bad.code, 7);
    assert.match(bad.stderr, /LC03[16]/);
    await writeFile(join(home.path, 'config', 'config.yaml'), '');
  });

  it('refuses a socket dir with the wrong mode or a symlink; long homes use a short socket path', async () => {
    const paths = daemonPaths(env);
    await chmod(paths.dir, 0o755);
    const refused = await runCli(['daemon', 'start'], { env });
    assert.equal(refused.code, 7);
    assert.match(refused.stderr, /LC030.*mode is 755/);
    await chmod(paths.dir, 0o700);

    const long = join(home.path, 'x'.repeat(60), 'y'.repeat(60));
    const longEnv = { AIONCTL_HOME: long };
    const lp = daemonPaths(longEnv);
    assert.ok(lp.longSocket && Buffer.byteLength(lp.longSocket) > MAX_SOCKET_PATH);
    assert.ok(Buffer.byteLength(lp.socket) <= MAX_SOCKET_PATH);
    const started = await runCli(['daemon', 'start', '--json'], { env: longEnv });
    assert.equal(started.code, 0, started.stderr);
    assert.equal(parseJson<{ socket: string }>(started).socket, lp.socket);
    assert.equal((await runCli(['daemon', 'stop'], { env: longEnv })).code, 0);
  });
});
