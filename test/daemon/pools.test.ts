/**
 * Pools and scheduling of a really started daemon: GPU runs queue for a free device and are pinned to it (fake
 * nvidia-smi on PATH), warm hosts are recycled after N runs or RSS growth, a draining daemon answers 503, and one
 * Idempotency-Key never starts a second run.
 */
import assert from 'node:assert/strict';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startDaemon } from '../../src/daemon/index.js';
import type { DaemonServer } from '../../src/daemon/server.js';
import { DaemonClient, daemonPaths, type RunEnvelope } from '../../src/lib/daemon/index.js';
import { makePackage, scriptPackage } from '../run/helpers.js';
import { loopWat, makePackage as makeWasmPackage, SUMMARIZE, tempHome } from './helpers.js';
import { REPO_ROOT } from '../helpers/cli.js';

/** A fake nvidia-smi answering the run library's query with these devices (uuid, MiB total, MiB used). */
function fakeNvidiaSmi(devices: [string, number, number][]): string {
  const rows = devices.map(
    ([uuid, total, used], i) => `echo "${i}, ${uuid}, Fake GPU, ${total}, ${used}, 0, 550.54.15"`,
  );
  return `#!/bin/sh\n${rows.join('\n')}\n`;
}

interface GpuOutput {
  cuda: string;
  start: number;
  end: number;
}

describe('daemon pools and scheduling (a real daemon in this process)', () => {
  let home: Awaited<ReturnType<typeof tempHome>>;
  const daemons: { server: DaemonServer; client: DaemonClient }[] = [];
  let gpuPkg: string;

  /** A daemon with its own home, config and extra PATH entry. */
  async function daemon(name: string, config: string, pathPrefix?: string) {
    const env = {
      AIONCTL_HOME: join(home.path, name),
      PATH: `${pathPrefix ? `${pathPrefix}:` : ''}${process.env.PATH ?? ''}`,
    };
    await mkdir(join(env.AIONCTL_HOME, 'config'), { recursive: true });
    await writeFile(join(env.AIONCTL_HOME, 'config', 'config.yaml'), `daemon:\n${config}`);
    const server = await startDaemon({ env, cwd: home.path });
    const client = new DaemonClient(daemonPaths(env).socket, { connections: 8 });
    daemons.push({ server, client });
    return { server, client, env };
  }

  async function fakeBin(name: string, devices: [string, number, number][]): Promise<string> {
    const bin = join(home.path, name);
    await mkdir(bin, { recursive: true });
    await writeFile(join(bin, 'nvidia-smi'), fakeNvidiaSmi(devices), { mode: 0o755 });
    return bin;
  }

  before(async () => {
    home = await tempHome('aionctl-daemon-pools-');
    await chmod(home.path, 0o755); // the sandboxed module runs as nobody and reads its package from here
    gpuPkg = await makePackage(
      join(home.path, 'gpu-pkg'),
      scriptPackage(
        'const start = Date.now(); setTimeout(() => process.stdout.write(JSON.stringify({ cuda: process.env.CUDA_VISIBLE_DEVICES ?? null, start, end: Date.now() })), 700)',
        {
          name: 'gpu_probe',
          runtime: {
            type: 'subprocess',
            command: ['node', 'main.mjs'],
            resources: { memory: '256Mi', gpu: { required: true, vendor: 'nvidia', count: 1, memory: '8Gi' } },
          },
        },
      ),
    );
  });

  after(async () => {
    for (const d of daemons) {
      await d.client.close();
      await d.server.stop('test');
    }
    await home.cleanup();
  });

  it('two GPU runs on a 1-GPU machine serialize on that device', async () => {
    const bin = await fakeBin('bin1', [['GPU-aaaa', 16000, 1000]]);
    const { client } = await daemon('gpu1', '  workers: 2\n', bin);
    const runs = await Promise.all([0, 1].map(() => client.run({ package: gpuPkg, input: {}, cwd: '/' })));
    for (const r of runs) assert.equal(r.ok, true, JSON.stringify(r));
    const [a, b] = runs.map((r) => r.output as GpuOutput) as [GpuOutput, GpuOutput];
    const metrics = (await client.request<string>('GET', '/metrics')).body;
    assert.match(metrics, /aionctl_daemon_gpu_slots\{state="free"\} 1/);
    assert.match(metrics, /aionctl_daemon_gpu_waiting 0/);
    assert.equal(a.cuda, 'GPU-aaaa');
    assert.equal(b.cuda, 'GPU-aaaa');
    assert.ok(a.end <= b.start || b.end <= a.start, `overlapping: ${JSON.stringify([a, b])}`);
    assert.deepEqual(runs[0]!.limits.gpus, ['GPU-aaaa']);
    const status = await client.status();
    assert.deepEqual(
      status.gpus.map((g) => [g.uuid, g.busy]),
      [['GPU-aaaa', false]],
    );
  });

  it('on 2 GPUs two concurrent GPU runs get different devices', async () => {
    const bin = await fakeBin('bin2', [
      ['GPU-bbbb', 16000, 1000],
      ['GPU-cccc', 16000, 2000],
    ]);
    const { client } = await daemon('gpu2', '  workers: 2\n', bin);
    const runs = await Promise.all([0, 1].map(() => client.run({ package: gpuPkg, input: {}, cwd: '/' })));
    for (const r of runs) assert.equal(r.ok, true, JSON.stringify(r));
    const devices = runs.map((r) => (r.output as GpuOutput).cuda).sort();
    assert.deepEqual(devices, ['GPU-bbbb', 'GPU-cccc']);
    // A device too small for the package: required → the in-process code (EX020), not a wait.
    const tiny = await fakeBin('bin3', [['GPU-dddd', 4000, 0]]);
    const { client: small } = await daemon('gpu3', '  workers: 1\n', tiny);
    const refused = await small.request<{ error: { code: string } }>('POST', '/v1/runs', {
      package: gpuPkg,
      input: {},
      cwd: '/',
    });
    assert.equal(refused.body.error.code, 'EX020');
  });

  it('a warm host is recycled after daemon.recycleRuns runs', async () => {
    const { client } = await daemon('recycle-n', '  workers: 1\n  recycleRuns: 3\n');
    for (let i = 0; i < 7; i++) {
      const r = await client.run({ package: SUMMARIZE, input: { text: `run ${i}` }, cwd: REPO_ROOT });
      assert.equal(r.ok, true, JSON.stringify(r));
    }
    const pool = (await client.status()).pools[0]!;
    assert.equal(pool.recycled, 2, JSON.stringify(pool)); // after runs 3 and 6
    assert.equal(pool.started, 3);
  });

  it('a warm host is recycled once its RSS grew more than daemon.recycleRssBytes', async () => {
    const { client } = await daemon('recycle-rss', '  workers: 1\n  recycleRssBytes: 1\n  recycleCheckEvery: 1\n');
    let recycled = 0;
    for (let i = 0; i < 20 && recycled === 0; i++) {
      const r = await client.run({ package: SUMMARIZE, input: { text: 'x '.repeat(2000 * (i + 1)) }, cwd: REPO_ROOT });
      assert.equal(r.ok, true, JSON.stringify(r));
      recycled = (await client.status()).pools[0]!.recycled;
    }
    assert.ok(recycled >= 1, 'no recycle after 20 runs with a 1-byte RSS budget');
  });

  it('one Idempotency-Key sent twice at once starts one run; a draining daemon answers 503 and finishes in-flight runs', async () => {
    const slow = await makeWasmPackage(join(home.path, 'slow'), 'slow_loop', loopWat(150_000_000));
    const { server, client } = await daemon('drain', '  workers: 2\n');
    const body = { package: SUMMARIZE, input: { text: 'same' }, cwd: REPO_ROOT };
    const before = (await client.status()).runs.total;
    const [x, y] = await Promise.all([
      client.request<RunEnvelope>('POST', '/v1/runs', body, { 'idempotency-key': 'once' }),
      client.request<RunEnvelope>('POST', '/v1/runs', body, { 'idempotency-key': 'once' }),
    ]);
    assert.equal(x.headers['x-run-id'], y.headers['x-run-id']);
    assert.deepEqual(x.body, y.body);
    assert.equal((await client.status()).runs.total, before + 1, 'a replay never runs again');

    const inFlight = client.request<RunEnvelope>('POST', '/v1/runs', { package: slow, input: {}, cwd: '/' });
    while ((await client.status()).runs.inFlight === 0) await new Promise((r) => setTimeout(r, 10));
    const stopping = server.stop('test');
    const refused = await client.request<{ error: { code: string } }>('POST', '/v1/runs', body);
    assert.equal(refused.status, 503);
    assert.equal(refused.body.error.code, 'EX041');
    assert.equal(refused.headers['retry-after'], '1');
    const finished = await inFlight;
    assert.equal(finished.status, 200);
    assert.equal(finished.body.ok, true);
    await stopping;
  });
});
