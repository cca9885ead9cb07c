import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DaemonClient, daemonPaths, type RunEnvelope } from '../../src/lib/daemon/index.js';
import { parseJson, REPO_ROOT, runCli } from '../helpers/cli.js';
import { tempHome } from './helpers.js';

// 10,000 runs is the bench's figure (bench/daemon.ts); CI on 2 shared cores runs 2,000.
const CLIENTS = 64;
const RUNS = Number(process.env.AIONCTL_RELIABILITY_RUNS ?? 2000);

describe('reliability: 64 concurrent clients against one daemon', () => {
  let home: Awaited<ReturnType<typeof tempHome>>;
  let env: Record<string, string>;

  before(async () => {
    home = await tempHome();
    env = { AIONCTL_HOME: home.path };
    const started = await runCli(['daemon', 'start', '--json'], { env });
    assert.equal(started.code, 0, started.stderr);
  });

  after(async () => {
    await runCli(['daemon', 'stop'], { env });
    await home.cleanup();
  });

  it(`answers every one of ${RUNS} runs exactly once, each with its own result`, async () => {
    const socket = daemonPaths(env).socket;
    const clients = Array.from({ length: CLIENTS }, () => new DaemonClient(socket));
    const answers = new Map<number, { runId: string; envelope: RunEnvelope }>();
    let next = 0;
    let retried = 0;
    await Promise.all(
      clients.map(async (client) => {
        for (let i = next++; i < RUNS; i = next++) {
          // Each request carries its own input, so a swapped or duplicated answer shows in the output.
          const text = `${'w '.repeat((i % 37) + 1)}id${i}`;
          for (;;) {
            const r = await client.request<RunEnvelope>(
              'POST',
              '/v1/runs',
              { package: 'examples/summarize-wasm', input: { text }, cwd: REPO_ROOT },
              { 'idempotency-key': `run-${i}` },
            );
            if (r.status === 429) {
              retried++;
              await new Promise((res) => setTimeout(res, 20));
              continue;
            }
            assert.equal(r.status, 200, JSON.stringify(r.body));
            assert.ok(!answers.has(i), `run ${i} answered twice`);
            answers.set(i, { runId: String(r.headers['x-run-id']), envelope: r.body });
            break;
          }
        }
      }),
    );
    await Promise.all(clients.map((c) => c.close()));
    assert.equal(answers.size, RUNS);
    assert.equal(new Set([...answers.values()].map((a) => a.runId)).size, RUNS, 'every run id is distinct');
    for (const [i, { envelope }] of answers) {
      const text = `${'w '.repeat((i % 37) + 1)}id${i}`;
      assert.equal(envelope.ok, true);
      assert.deepEqual(envelope.output, {
        bytes: Buffer.byteLength(JSON.stringify({ text })) + 1,
        words: (i % 37) + 2,
      });
    }
    const status = parseJson<{ runs: { total: number; ok: number } }>(
      await runCli(['daemon', 'status', '--json'], { env }),
    );
    assert.equal(status.runs.total, RUNS, `served exactly ${RUNS} (429 retries: ${retried})`);
    assert.equal(status.runs.ok, RUNS);
  });
});
