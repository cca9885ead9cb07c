// The daemon: warm `aionctl run` through the bin/run.js fast path vs `node -e 0` and vs the cold in-process run
// (same machine, same run), the fast path's own import time, and the API alone over the socket (latency,
// throughput) with 64 concurrent clients × 10,000 runs (AIONCTL_BENCH_DAEMON_RUNS to change).
// Cold is honest: measured before the daemon starts, each run a fresh process with AIONCTL_DAEMON=off (nothing
// of the daemon is loaded or asked), after one unmeasured run so the on-disk caches a user has are warm.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DaemonClient, daemonPaths } from '../src/lib/daemon/index.js';
import { median, medianOf, REPO_ROOT, round, timeCommand } from './util.js';

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export async function daemonBench(): Promise<Record<string, number>> {
  const home = mkdtempSync(join(tmpdir(), 'aionctl-bench-daemon-'));
  const env = { ...process.env, AIONCTL_HOME: home };
  const bin = join(REPO_ROOT, 'bin', 'run.js');
  const args = [bin, 'run', 'examples/summarize-wasm', '--input-json', '{"text":"hello big world"}'];
  const figures: Record<string, number> = {};
  try {
    const coldEnv = { ...env, AIONCTL_DAEMON: 'off' };
    timeCommand(process.execPath, args, { env: coldEnv, cwd: REPO_ROOT }); // on-disk caches (compiled schemas)
    const coldRuns: number[] = [];
    const nodeRuns: number[] = [];
    for (let i = 0; i < 10; i++) {
      nodeRuns.push(timeCommand(process.execPath, ['-e', '0']));
      coldRuns.push(timeCommand(process.execPath, args, { env: coldEnv, cwd: REPO_ROOT }));
    }
    const started = spawnSync(process.execPath, [bin, 'daemon', 'start'], { env, cwd: REPO_ROOT });
    if (started.status !== 0) throw new Error(`daemon start failed: ${started.stderr}`);
    timeCommand(process.execPath, args, { env, cwd: REPO_ROOT }); // warm the hosts and caches
    // node -e 0 and the warm run alternate, so both see the same machine load.
    const warmRuns: number[] = [];
    for (let i = 0; i < 30; i++) {
      nodeRuns.push(timeCommand(process.execPath, ['-e', '0']));
      warmRuns.push(timeCommand(process.execPath, args, { env, cwd: REPO_ROOT }));
    }
    const node = median(nodeRuns);
    const warm = median(warmRuns);
    const cold = median(coldRuns);
    const fastImport = medianOf(30, () =>
      timeCommand(process.execPath, [
        '-e',
        `import(${JSON.stringify(join(REPO_ROOT, 'dist/src/lib/daemon/fast-run.js'))})`,
      ]),
    );
    Object.assign(figures, {
      node_e0_ms: round(node),
      warm_run_ms: round(warm),
      warm_over_node_ratio: round(warm / node),
      cold_run_ms: round(cold),
      cold_over_warm_ratio: round(cold / warm),
      cold_over_node_ratio: round(cold / node),
      fast_path_import_ms: round(fastImport - node),
    });

    const socket = daemonPaths(env).socket;
    const one = new DaemonClient(socket);
    const request = { package: 'examples/summarize-wasm', input: { text: 'hello big world' }, cwd: REPO_ROOT };
    for (let i = 0; i < 200; i++) await one.run(request);
    const latencies: number[] = [];
    for (let i = 0; i < 1000; i++) {
      const t = performance.now();
      await one.run(request);
      latencies.push(performance.now() - t);
    }
    await one.close();
    const clients = Array.from({ length: 64 }, () => new DaemonClient(socket));
    const total = Number(process.env.AIONCTL_BENCH_DAEMON_RUNS ?? 10_000);
    let next = 0;
    let failed = 0;
    const t0 = performance.now();
    await Promise.all(
      clients.map(async (c) => {
        while (next++ < total) {
          for (;;) {
            const r = await c.request<{ ok: boolean }>('POST', '/v1/runs', request);
            if (r.status === 429) continue;
            if (r.status !== 200 || !r.body.ok) failed++;
            break;
          }
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    await Promise.all(clients.map((c) => c.close()));
    Object.assign(figures, {
      api_p50_ms: round(median(latencies), 3),
      api_p99_ms: round(percentile(latencies, 99), 3),
      api_runs_per_s_64_clients: round(total / seconds, 0),
      api_runs: total,
      api_failed: failed,
    });
  } finally {
    spawnSync(process.execPath, [bin, 'daemon', 'stop'], { env });
    rmSync(home, { recursive: true, force: true });
  }
  return figures;
}
