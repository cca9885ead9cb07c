import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { daemonPaths, isDaemonPid, pidAlive, stopDaemon } from '../../src/lib/daemon/index.js';
import { fastRun } from '../../src/lib/daemon/fast-run.js';
import { selfIdentity } from '../../src/lib/daemon/identity.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { sleep, tempHome } from './helpers.js';

describe('what the daemon client reads from the socket dir is checked before it is trusted', () => {
  let home: Awaited<ReturnType<typeof tempHome>>;
  before(async () => {
    home = await tempHome();
  });
  after(() => home.cleanup());

  it('the run fast path sends nothing (the body holds the environment) to a socket in a dir that is not private', async () => {
    const env = { AIONCTL_HOME: home.path, SECRET_TOKEN: 'do-not-leak' };
    const paths = daemonPaths(env);
    await mkdir(paths.dir, { recursive: true, mode: 0o700 });
    await chmod(paths.dir, 0o755);
    const me = selfIdentity();
    await writeFile(paths.record, JSON.stringify({ pid: process.pid, ...me, socket: paths.socket }));
    let connections = 0;
    const server = createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((resolve) => server.listen(paths.socket, resolve));
    try {
      const io = { out: '', err: '' };
      const sink = {
        stdout: (t: string) => (io.out += t),
        stderr: (t: string) => (io.err += t),
        readStdin: () => '{}',
      };
      const args = ['examples/summarize-wasm', '--input-json', '{"text":"a"}'];
      assert.equal(await fastRun(args, env, REPO_ROOT, sink), undefined, 'auto: falls through to the cold path');
      assert.equal(await fastRun(args, { ...env, AIONCTL_DAEMON: 'require' }, REPO_ROOT, sink), 7);
      assert.match(io.err, /LC032.*mode is 755/);
      assert.equal(connections, 0);
    } finally {
      await new Promise((resolve) => server.close(resolve));
      await chmod(paths.dir, 0o700);
    }
  });

  it('stop never signals a live process a stale pid record names unless it is a daemon (pid reuse)', async () => {
    const env = { AIONCTL_HOME: home.path };
    const paths = daemonPaths(env);
    await mkdir(paths.dir, { recursive: true, mode: 0o700 });
    const other = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      assert.ok(other.pid && pidAlive(other.pid));
      assert.equal(isDaemonPid(other.pid), false);
      await writeFile(paths.record, JSON.stringify({ pid: other.pid, version: '0.0.1', buildId: 'old' }));
      const result = await stopDaemon({ env, timeoutMs: 500 });
      assert.equal(result.stopped, false);
      assert.ok(result.cleaned.includes(paths.record), JSON.stringify(result));
      assert.equal(existsSync(paths.record), false);
      await sleep(100);
      assert.equal(pidAlive(other.pid), true, 'the unrelated process is still running');
    } finally {
      other.kill('SIGKILL');
    }
  });
});
