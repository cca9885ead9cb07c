import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  checkPrivateDir,
  daemonPaths,
  daemonSettings,
  GpuScheduler,
  LruCache,
  libraryDiscover,
  MAX_SOCKET_PATH,
} from '../../src/lib/daemon/index.js';
import { startDaemon } from '../../src/daemon/index.js';
import { parseRunArgv } from '../../src/lib/daemon/fast-run.js';
import { AionError } from '../../src/lib/errors/index.js';
import { resolvePaths } from '../../src/lib/config/index.js';
import { preparedModule, resolveRunnable } from '../../src/lib/run/index.js';
import { SUMMARIZE, tempHome } from './helpers.js';

const FAKE_NVSMI = `#!/bin/sh
case "\${FAKE_NVSMI:-ok}" in
  hang) exec sleep 3600 ;;
  garbage) echo "not,csv"; exit 0 ;;
esac
echo "0, GPU-1111, NVIDIA H100 80GB HBM3, 81559, 1024, 0, 550.54.15"
echo "1, GPU-6666, NVIDIA H100 80GB HBM3, 81559, 80000, 0, 550.54.15"
`;

describe('daemon units', () => {
  let home: Awaited<ReturnType<typeof tempHome>>;
  before(async () => {
    home = await tempHome();
  });
  after(() => home.cleanup());

  it('LRU evicts by bytes, honours TTL and drops by tag', () => {
    let now = 0;
    const c = new LruCache<string>('t', 100, () => now);
    c.set('a', 'A', 40, { tags: ['/p/a'] });
    c.set('b', 'B', 40);
    assert.equal(c.get('a'), 'A'); // a is now the most recent
    c.set('c', 'C', 40); // over 100: b (least recent) goes
    assert.deepEqual([c.peek('a'), c.peek('b'), c.peek('c')], ['A', undefined, 'C']);
    assert.equal(c.bytes, 80);
    c.set('huge', 'H', 101);
    assert.equal(c.peek('huge'), undefined);
    c.set('t', 'T', 10, { ttlMs: 5 });
    now = 10;
    assert.equal(c.get('t'), undefined);
    assert.deepEqual(c.dropTagged('/p/a'), ['a']);
    assert.deepEqual(c.stats().entries, 1);
  });

  it('socket paths: per store, short fallback for long homes', () => {
    const a = daemonPaths({ AIONCTL_HOME: '/h1' });
    const b = daemonPaths({ AIONCTL_HOME: '/h2' });
    assert.equal(a.dir, '/h1/run');
    assert.notEqual(a.socket, b.socket);
    const long = daemonPaths({ AIONCTL_HOME: `/${'d'.repeat(120)}` });
    assert.ok(long.longSocket);
    assert.ok(Buffer.byteLength(long.socket) <= MAX_SOCKET_PATH);
    assert.equal(daemonPaths({ XDG_RUNTIME_DIR: '/run/user/7', HOME: '/home/x' }).dir, '/run/user/7/aionctl');
  });

  it('checkPrivateDir refuses a wide mode and a symlink', async () => {
    const ok = join(home.path, 'ok');
    assert.equal(checkPrivateDir(ok), undefined);
    const wide = join(home.path, 'wide');
    await mkdir(wide, { mode: 0o700 });
    await chmod(wide, 0o770);
    assert.match(checkPrivateDir(wide)!.problem, /mode is 770/);
    const link = join(home.path, 'link');
    await symlink(ok, link);
    assert.match(checkPrivateDir(link)!.problem, /symbolic link/);
  });

  it('a daemon refuses to start in a runtime dir owned by another user, a wide one or a symlink (LC030)', async () => {
    const cases: [string, (dir: string) => Promise<void>, RegExp][] = [
      ['owner', (d) => chown(d, 65534, 65534), /owned by uid 65534/],
      ['mode', (d) => chmod(d, 0o711), /mode is 711/],
      [
        'symlink',
        async (d) => {
          await rm(d, { recursive: true });
          await mkdir(`${d}-real`, { mode: 0o700 });
          await symlink(`${d}-real`, d);
        },
        /symbolic link/,
      ],
    ];
    for (const [name, spoil, problem] of cases) {
      const env = { AIONCTL_HOME: join(home.path, `start-${name}`), PATH: process.env.PATH ?? '' };
      const dir = daemonPaths(env).dir;
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await spoil(dir);
      await assert.rejects(
        startDaemon({ env, cwd: home.path }),
        (e: AionError) => e.code === 'LC030' && problem.test(e.message),
        name,
      );
      assert.equal(existsSync(daemonPaths(env).socket), false, `${name}: no socket was created`);
    }
  });

  it('prepared modules are kept in an LRU bounded by bytes (the daemon passes its own)', async () => {
    const env = { AIONCTL_HOME: join(home.path, 'modules') };
    const runnable = await resolveRunnable(SUMMARIZE, { cwd: home.path, env, paths: resolvePaths(env) });
    const one = preparedModule(runnable, 1, new LruCache<Uint8Array>('probe', 1 << 20));
    const budget = Math.floor((one.length + 128) * 2.5); // room for two prepared copies, not three
    const cache = new LruCache<Uint8Array>('modules', budget);
    for (const pages of [1, 2, 3]) preparedModule(runnable, pages, cache);
    assert.equal(cache.size, 2);
    assert.ok(cache.bytes <= budget);
    assert.equal(cache.peek(`${runnable.identity.digest}:1`), undefined, 'the least recently used one went first');
    const again = preparedModule(runnable, 3, cache);
    assert.equal(cache.stats().hits, 1);
    assert.equal(again, cache.peek(`${runnable.identity.digest}:3`));
  });

  it('the fast path takes only the flags it knows', () => {
    assert.deepEqual(parseRunArgv(['pkg', '--input-json', '{}', '--json', '--timeout=50']), {
      pkg: 'pkg',
      inputJson: '{}',
      json: true,
      timeout: 50,
      env: [],
      dirs: [],
    });
    assert.equal(parseRunArgv(['pkg', '--help']), undefined);
    assert.equal(parseRunArgv(['pkg', '--debug']), undefined);
    assert.equal(parseRunArgv(['a', 'b']), undefined);
    assert.equal(parseRunArgv(['pkg', '--timeout', 'x']), undefined);
  });

  it('daemon settings: defaults, values, LC036 for bad ones', () => {
    assert.equal(daemonSettings({}).idleTimeoutMs, 30 * 60_000);
    assert.equal(daemonSettings({ daemon: { maxQueue: 3 } }).maxQueue, 3);
    for (const bad of [{ idleTimeoutMs: -1 }, { workers: 0 }, { nope: 1 }, 'x'])
      assert.throws(
        () => daemonSettings({ daemon: bad as never }),
        (e: AionError) => e.code === 'LC036',
      );
  });

  it('GPU slots: one per device with enough free memory; a hung nvidia-smi is cut off', async () => {
    const bin = join(home.path, 'fakebin');
    await mkdir(bin);
    await writeFile(join(bin, 'nvidia-smi'), FAKE_NVSMI, { mode: 0o755 });
    const PATH = `${bin}:${process.env.PATH}`;
    const gpus = new GpuScheduler(libraryDiscover({ PATH }));
    await gpus.start();
    assert.equal(gpus.devices().length, 2);
    const need = { required: true, vendor: 'nvidia' as const, count: 1, memoryBytes: 10_000 * 1048576 };
    const first = (await gpus.allocate(need))!;
    assert.equal(first.selection.devices[0]!.uuid, 'GPU-1111'); // GPU 1 has only ~1.5 GiB free
    assert.equal(first.selection.env.CUDA_VISIBLE_DEVICES, 'GPU-1111');
    let second: string | undefined;
    const pending = gpus.allocate(need).then((l) => ((second = l!.selection.env.CUDA_VISIBLE_DEVICES), l!));
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(second, undefined, 'queued while the only fitting device is busy');
    assert.equal(gpus.waiting, 1);
    // A small request fits the other device meanwhile: a waiter that does not fit blocks nobody.
    const small = (await gpus.allocate({ ...need, memoryBytes: 1024 * 1048576 }))!;
    assert.equal(small.selection.devices[0]!.uuid, 'GPU-6666');
    small.release();
    first.release();
    const lease = await pending;
    assert.equal(second, 'GPU-1111');
    lease.release();
    await assert.rejects(
      gpus.allocate({ ...need, memoryBytes: 100_000 * 1048576 }),
      (e: AionError) => e.code === 'EX020',
    );
    assert.equal(await gpus.allocate({ ...need, required: false, memoryBytes: 100_000 * 1048576 }), undefined);
    gpus.stop();
    const t = Date.now();
    const hung = await libraryDiscover({ PATH, FAKE_NVSMI: 'hang' }, 300)();
    assert.deepEqual(hung.devices, []);
    assert.ok(Date.now() - t < 5000);
    assert.deepEqual((await libraryDiscover({ PATH, FAKE_NVSMI: 'garbage' })()).devices, []);
    // Periodic refresh, each cut off: a hung nvidia-smi delays a GPU run by at most the timeout, never forever.
    const hanging = new GpuScheduler(libraryDiscover({ PATH, FAKE_NVSMI: 'hang' }, 200), 100);
    const t2 = Date.now();
    assert.equal(await hanging.allocate({ ...need, required: false }), undefined);
    await assert.rejects(hanging.allocate(need), (e: AionError) => e.code === 'EX020');
    assert.ok(Date.now() - t2 < 3000, `${Date.now() - t2} ms`);
    // Wait for a second refresh (each ~200 ms + a process start; polled so a loaded machine only takes longer).
    for (const until = Date.now() + 10_000; hanging.refreshes < 2 && Date.now() < until;)
      await new Promise((r) => setTimeout(r, 50));
    assert.ok(hanging.refreshes >= 2, `refreshed ${hanging.refreshes} times`);
    hanging.stop();
  });
});
