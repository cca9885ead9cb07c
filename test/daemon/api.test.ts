import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startDaemon } from '../../src/daemon/index.js';
import type { DaemonServer } from '../../src/daemon/server.js';
import { DaemonClient, daemonPaths, type RunEnvelope } from '../../src/lib/daemon/index.js';
import { resolvePaths } from '../../src/lib/config/index.js';
import { AionError } from '../../src/lib/errors/index.js';
import { runPackage } from '../../src/lib/run/index.js';
import { validatePaths } from '../../src/lib/manifest/index.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { copySummarize, loopWat, makePackage, SUMMARIZE, sleep, tempHome } from './helpers.js';

interface SseEvent {
  type: string;
  data: Record<string, unknown>;
}

/** A real SSE subscriber on /v1/events. */
function subscribe(
  socket: string,
): Promise<{ events: SseEvent[]; waitFor: (p: (e: SseEvent) => boolean) => Promise<SseEvent>; close: () => void }> {
  return new Promise((resolve, reject) => {
    const events: SseEvent[] = [];
    const waiters: { p: (e: SseEvent) => boolean; r: (e: SseEvent) => void }[] = [];
    const req = request({ socketPath: socket, path: '/v1/events' }, (res) => {
      let buf = '';
      res.setEncoding('utf8').on('data', (chunk: string) => {
        buf += chunk;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const frame = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const type = /^event: (.*)$/m.exec(frame)?.[1];
          const data = /^data: (.*)$/m.exec(frame)?.[1];
          if (!type || !data) continue;
          const e = { type, data: JSON.parse(data) as Record<string, unknown> };
          events.push(e);
          for (const w of [...waiters]) {
            if (!w.p(e)) continue;
            waiters.splice(waiters.indexOf(w), 1);
            w.r(e);
          }
        }
      });
      resolve({
        events,
        waitFor: (p) => {
          const seen = events.find(p);
          return seen ? Promise.resolve(seen) : new Promise((r) => waiters.push({ p, r }));
        },
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
    req.end();
  });
}

function withoutTiming(e: RunEnvelope): Omit<RunEnvelope, 'durationMs'> {
  const { durationMs: _d, ...rest } = e;
  return rest;
}

describe('daemon API over the Unix socket (a real daemon in this process)', () => {
  let home: Awaited<ReturnType<typeof tempHome>>;
  let server: DaemonServer;
  let client: DaemonClient;
  let socket: string;
  let env: Record<string, string>;
  let slowPkg: string;
  let hangPkg: string;

  before(async () => {
    home = await tempHome();
    env = { AIONCTL_HOME: home.path, PATH: process.env.PATH ?? '' };
    await mkdir(join(home.path, 'config'), { recursive: true });
    await writeFile(join(home.path, 'config', 'config.yaml'), 'daemon:\n  maxQueue: 4\n  workers: 2\n');
    slowPkg = await makePackage(join(home.path, 'slow'), 'slow_loop', loopWat(150_000_000));
    hangPkg = await makePackage(join(home.path, 'hang'), 'hang_loop', loopWat(-1), { timeoutMs: 300 });
    server = await startDaemon({ env, cwd: home.path });
    socket = daemonPaths(env).socket;
    client = new DaemonClient(socket, { connections: 32 });
  });

  after(async () => {
    await client?.close();
    await server?.stop('test');
    await home.cleanup();
  });

  it('answers /healthz, /v1/status and /metrics', async () => {
    const health = await client.health();
    assert.equal(health.pid, process.pid);
    assert.equal(health.ok, true);
    const status = await client.status();
    for (const key of ['pid', 'socket', 'version', 'uptimeMs', 'runs', 'rss', 'caches', 'pools'])
      assert.ok(key in status, key);
    assert.equal(status.socket, socket);
    assert.equal(status.queue.max, 4);
    const metrics = await client.request<string>('GET', '/metrics');
    assert.equal(metrics.status, 200);
    for (const name of [
      'aionctl_daemon_runs_total',
      'aionctl_daemon_run_duration_seconds',
      'aionctl_daemon_queue_depth',
      'aionctl_daemon_verification_cache_hits_total',
      'aionctl_daemon_cache_hits',
    ])
      assert.match(metrics.body, new RegExp(name));
  });

  it('runs the example and answers the same envelope as the in-process (cold) run', async () => {
    const request = { package: 'examples/summarize-wasm', input: { text: 'one two three' }, cwd: REPO_ROOT };
    const viaDaemon = await client.run(request);
    assert.equal(viaDaemon.ok, true, JSON.stringify(viaDaemon));
    assert.deepEqual(viaDaemon.output, { bytes: 25, words: 3 });
    const ctx = { cwd: REPO_ROOT, env, paths: resolvePaths(env) };
    const cold = await runPackage({ package: request.package, input: request.input }, ctx);
    assert.deepEqual(withoutTiming(viaDaemon), withoutTiming(cold));
    // A refusal before start: the same code and message both ways, as an error (not an envelope).
    const bad = { ...request, input: { words: 1 } };
    const viaDaemonBad = await client.request<{ error: { code: string; message: string } }>('POST', '/v1/runs', bad);
    assert.equal(viaDaemonBad.status, 422);
    assert.equal(viaDaemonBad.headers['x-aionctl-exit'], '8');
    await assert.rejects(
      runPackage({ package: bad.package, input: bad.input }, ctx),
      (err: AionError) => err.code === viaDaemonBad.body.error.code && err.message === viaDaemonBad.body.error.message,
    );
  });

  it('honours Idempotency-Key and keeps results for GET /v1/runs/:id', async () => {
    const body = { package: SUMMARIZE, input: { text: 'idem' }, cwd: REPO_ROOT };
    const headers = { 'idempotency-key': 'key-1' };
    const first = await client.request<RunEnvelope>('POST', '/v1/runs', body, headers);
    const second = await client.request<RunEnvelope>('POST', '/v1/runs', body, headers);
    assert.equal(first.headers['x-run-id'], second.headers['x-run-id']);
    assert.equal(second.headers['idempotent-replay'], 'true');
    const total = (await client.status()).runs.total;
    const other = await client.request('POST', '/v1/runs', body, { 'idempotency-key': 'key-2' });
    assert.notEqual(other.headers['x-run-id'], first.headers['x-run-id']);
    assert.equal((await client.status()).runs.total, total + 1);
    const record = await client.request<{ state: string; envelope: RunEnvelope }>(
      'GET',
      `/v1/runs/${String(first.headers['x-run-id'])}`,
    );
    assert.equal(record.body.state, 'finished');
    assert.deepEqual(record.body.envelope.output, { bytes: 16, words: 1 });
    const missing = await client.request<{ error: { code: string } }>('GET', '/v1/runs/nope');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.code, 'EX045');
  });

  it('refuses malformed requests and a 10 MB body with the CLI codes', async () => {
    const notJson = await client.request<{ error: { code: string } }>('POST', '/v1/runs', '{nope');
    assert.equal(notJson.status, 400);
    assert.equal(notJson.body.error.code, 'EX043');
    const noCwd = await client.request<{ error: { code: string; message: string } }>('POST', '/v1/runs', {
      package: 'x',
      input: 1,
    });
    assert.equal(noCwd.status, 400);
    assert.match(noCwd.body.error.message, /cwd/);
    const extra = await client.request<{ error: { code: string } }>('POST', '/v1/runs', {
      package: 'x',
      input: 1,
      cwd: '/',
      shell: 'rm -rf /',
    });
    assert.equal(extra.status, 400);
    const big = await client.request<{ error: { code: string } }>('POST', '/v1/runs', {
      package: 'x',
      input: 'x'.repeat(10 * 1024 * 1024),
      cwd: '/',
    });
    assert.equal(big.status, 413);
    assert.equal(big.body.error.code, 'EX042');
    // The daemon still serves after all of that.
    assert.equal((await client.health()).ok, true);
  });

  it('validate calls the manifest library; resolve without a project answers the install code', async () => {
    const paths = ['examples/summarize-wasm', 'examples/echo-subprocess'];
    const viaDaemon = await client.request('POST', '/v1/validate', { paths, cwd: REPO_ROOT });
    assert.equal(viaDaemon.status, 200);
    assert.deepEqual(viaDaemon.body, JSON.parse(JSON.stringify(validatePaths(paths, { cwd: REPO_ROOT }))));
    const resolve = await client.request<{ error: { code: string } }>('POST', '/v1/resolve', { cwd: home.path });
    assert.equal(resolve.status, 422);
    assert.equal(resolve.body.error.code, 'LC011'); // no .aionctl.yaml: what `aionctl install` says
  });

  it('a hung module is killed at its timeout, its host replaced, and the next run works', async () => {
    const hung = await client.run({ package: hangPkg, input: {}, cwd: '/' });
    assert.equal(hung.ok, false);
    assert.equal(hung.error?.code, 'EX010');
    const pools = (await client.status()).pools;
    assert.ok(pools.reduce((n, p) => n + p.replaced, 0) >= 1, JSON.stringify(pools));
    const next = await client.run({ package: slowPkg, input: {}, cwd: '/' });
    assert.equal(next.ok, true, JSON.stringify(next));
  });

  it('SSE reports queued/started/finished; editing a watched file invalidates and the next run sees it', async () => {
    const sse = await subscribe(socket);
    try {
      const pkg = await copySummarize(join(home.path, 'editable'));
      const first = await client.run({ package: pkg, input: { text: 'a b' }, cwd: '/' });
      assert.equal(first.ok, true);
      await sse.waitFor((e) => e.type === 'finished');
      assert.deepEqual(
        sse.events.filter((e) => ['queued', 'started', 'finished'].includes(e.type)).map((e) => e.type),
        ['queued', 'started', 'finished'],
      );
      // The schema now requires a "lang" field: a stale cache would still accept the old input.
      const schemaFile = join(pkg, 'schemas', 'summarize_input.json');
      const schema = JSON.parse(await readFile(schemaFile, 'utf8')) as { required: string[] };
      schema.required.push('lang');
      await sleep(50);
      await writeFile(schemaFile, JSON.stringify(schema));
      const invalidated = await sse.waitFor((e) => e.type === 'invalidated' && e.data.path === schemaFile);
      assert.equal(invalidated.data.event, 'change');
      const second = await client.request<{ error: { code: string; message: string } }>('POST', '/v1/runs', {
        package: pkg,
        input: { text: 'a b' },
        cwd: '/',
      });
      assert.equal(second.body.error.code, 'EX014');
      assert.match(second.body.error.message, /lang/);
    } finally {
      sse.close();
    }
  });

  it('a full queue answers 429 with Retry-After; every accepted run is answered', async () => {
    // 2 workers x 2 = 4 running, 4 waiting per priority: 20 at once overflow the normal queue.
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        client.request<{ error?: { code: string } }>('POST', '/v1/runs', { package: slowPkg, input: {}, cwd: '/' }),
      ),
    );
    const full = answers.filter((a) => a.status === 429);
    assert.ok(full.length > 0, `statuses: ${answers.map((a) => a.status).join(',')}`);
    assert.equal(full[0]!.headers['retry-after'], '1');
    assert.equal(full[0]!.body.error?.code, 'EX040');
    assert.ok(answers.every((a) => a.status === 200 || a.status === 429));
    // The high-priority queue is separate: it is not full.
    const high = await client.request('POST', '/v1/runs', { package: slowPkg, input: {}, cwd: '/', priority: 'high' });
    assert.equal(high.status, 200);
  });
});
