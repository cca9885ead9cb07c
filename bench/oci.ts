// Registry throughput: `aionctl push` then `aionctl pull` of a 256 MiB package (one random 256 MiB module) between an
// OCI layout and a real docker-registry started here, median of 3 each, against `skopeo copy` of the same artifact
// (oci layout -> registry -> oci layout) in the same run. Peak RSS of the aionctl process (the whole CLI process:
// its kernel maxrss, read at exit) is taken at 64 MiB and at the large size: streaming means it must not grow with
// the artifact. AIONCTL_BENCH_OCI_MIB sets the large size (default 256), AIONCTL_BENCH_OCI_RUNS the runs (>= 3).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { LayoutTarget, pack } from '../src/lib/oci/index.js';
import { startRegistry } from '../test/helpers/registry.js';
import { median, REPO_ROOT, round } from './util.js';

const MiB = 1024 * 1024;
const SIZE_MIB = Math.max(1, Number(process.env.AIONCTL_BENCH_OCI_MIB ?? 256) || 256);
const RUNS = Math.max(3, Number(process.env.AIONCTL_BENCH_OCI_RUNS ?? 3) || 3);

interface Run {
  ms: number;
  rssMiB: number;
}

/** Wall time of one command (the aionctl child reports its own peak RSS through the preload, see below). */
function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv): Run {
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 64 * MiB });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return { ms, rssMiB: 0 };
}

async function makePackage(root: string, sizeMiB: number): Promise<string> {
  const dir = join(root, `pkg${sizeMiB}`);
  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, 'aip.yaml'),
    `apiVersion: aionos/v1\nkind: AgentPackage\nmetadata: {name: bench${sizeMiB}, version: 1.0.0}\nruntime: {type: wasm, module: module.wasm}\n`,
  );
  // random, so nothing compresses or dedupes; written in pieces to keep the bench's own memory small
  const handle = await open(join(dir, 'module.wasm'), 'w');
  // `\0asm` + version first: pack validates that runtime.module is a wasm module.
  await handle.write(Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
  for (let i = 0; i < sizeMiB; i++) await handle.write(randomBytes(MiB));
  await handle.close();
  return dir;
}

export async function ociBench(): Promise<Record<string, number | string>> {
  const root = await mkdtemp(join(tmpdir(), 'aionctl-bench-oci-'));
  try {
    const preload = join(root, 'rss.mjs');
    await writeFile(
      preload,
      "import { writeFileSync } from 'node:fs';\nprocess.on('exit', () => { if (process.env.RSS_FILE) writeFileSync(process.env.RSS_FILE, String(process.resourceUsage().maxRSS)); });\n",
    );
    const bin = join(REPO_ROOT, 'bin', 'run.js');
    const figures: Record<string, number | string> = {};
    let n = 0;
    const aionctl = async (args: string[], home: string): Promise<Run> => {
      const rssFile = join(root, `rss-${n++}`);
      const env = {
        ...process.env,
        AIONCTL_HOME: home,
        DOCKER_CONFIG: join(root, 'docker'),
        NODE_OPTIONS: `--import ${pathToFileURL(preload).href}`,
        RSS_FILE: rssFile,
        CI: '1',
      };
      const run = timed(process.execPath, [bin, ...args, '--quiet'], env);
      return { ms: run.ms, rssMiB: Number(await readFile(rssFile, 'utf8')) / 1024 };
    };

    for (const sizeMiB of SIZE_MIB === 64 ? [64] : [64, SIZE_MIB]) {
      const pkg = await makePackage(root, sizeMiB);
      const layoutPath = join(root, `layout${sizeMiB}`);
      await pack(pkg, () => new LayoutTarget(layoutPath), { tag: '1.0.0' });
      const large = sizeMiB === SIZE_MIB;
      const runs = large ? RUNS : 1;
      const push: Run[] = [];
      const pull: Run[] = [];
      const skopeoPush: number[] = [];
      const skopeoPull: number[] = [];
      for (let i = 0; i < runs; i++) {
        // A fresh registry per run: nothing to skip or mount (skopeo's blob-info cache would otherwise mount
        // blobs it saw in earlier runs, and distribution links blobs per repository anyway).
        const registry = await startRegistry();
        try {
          const remote = `${registry.host}/bench/a${sizeMiB}:1.0.0`;
          push.push(
            await aionctl(['push', `oci:${layoutPath}:1.0.0`, remote], join(root, `home-push-${sizeMiB}-${i}`)),
          );
          pull.push(await aionctl(['pull', '--insecure-skip-verify', remote], join(root, `home-pull-${sizeMiB}-${i}`)));
          await rm(join(root, `home-pull-${sizeMiB}-${i}`), { recursive: true, force: true });
          if (!large) continue;
          const sremote = `docker://${registry.host}/bench/s${sizeMiB}:1.0.0`;
          skopeoPush.push(
            timed('skopeo', ['copy', '-q', '--dest-tls-verify=false', `oci:${layoutPath}:1.0.0`, sremote], process.env)
              .ms,
          );
          const out = join(root, `skopeo-out-${i}`);
          skopeoPull.push(
            timed('skopeo', ['copy', '-q', '--src-tls-verify=false', sremote, `oci:${out}:1.0.0`], process.env).ms,
          );
          await rm(out, { recursive: true, force: true });
        } finally {
          await registry.stop();
        }
      }
      figures[`push_${sizeMiB}mib_peak_rss_mib`] = round(Math.max(...push.map((r) => r.rssMiB)), 1);
      figures[`pull_${sizeMiB}mib_peak_rss_mib`] = round(Math.max(...pull.map((r) => r.rssMiB)), 1);
      if (!large) continue;

      const pushMs = median(push.map((r) => r.ms));
      const pullMs = median(pull.map((r) => r.ms));
      const sPushMs = median(skopeoPush);
      const sPullMs = median(skopeoPull);
      Object.assign(figures, {
        artifact_mib: sizeMiB,
        push_ms_median: round(pushMs),
        push_mb_per_s: round((sizeMiB * MiB) / 1e6 / (pushMs / 1000), 1),
        pull_ms_median: round(pullMs),
        pull_mb_per_s: round((sizeMiB * MiB) / 1e6 / (pullMs / 1000), 1),
        skopeo_push_ms_median: round(sPushMs),
        skopeo_pull_ms_median: round(sPullMs),
        ratio_push_vs_skopeo: round(pushMs / sPushMs),
        ratio_pull_vs_skopeo: round(pullMs / sPullMs),
      });
      // push + pull as one figure (the target: <= 1.0x skopeo both ways), medians of the per-run sums
      const both = median(push.map((r, i) => r.ms + (pull[i] as Run).ms));
      const sBoth = median(skopeoPush.map((ms, i) => ms + (skopeoPull[i] as number)));
      figures[`push_pull_${sizeMiB}mib_ms`] = round(both);
      figures[`skopeo_push_pull_${sizeMiB}mib_ms`] = round(sBoth);
      figures.ratio_push_pull_vs_skopeo = round(both / sBoth);
      figures.push_pull_peak_rss_mib = round(Math.max(...push.map((r) => r.rssMiB), ...pull.map((r) => r.rssMiB)), 1);
      figures.runs = runs;
    }
    return figures;
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
