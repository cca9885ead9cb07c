// `pack` throughput: a 64 MiB package (one 48 MiB module, 200 small files) packed into a fresh OCI layout, median
// of 5, against `tar -cf - DIR | sha256sum` (reading and hashing the same bytes once) measured in the same run.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LayoutTarget, pack } from '../src/lib/oci/index.js';
import { median, round, timeCommand } from './util.js';

const RUNS = 5;

export async function ociLocalBench(): Promise<Record<string, number | string>> {
  const root = await mkdtemp(join(tmpdir(), 'aionctl-bench-pack-'));
  try {
    const pkg = join(root, 'pkg');
    await mkdir(join(pkg, 'data'), { recursive: true });
    await writeFile(
      join(pkg, 'aip.yaml'),
      'apiVersion: aionos/v1\nkind: AgentPackage\nmetadata: {name: bench, version: 1.0.0}\nruntime: {type: wasm, module: module.wasm}\n',
    );
    await writeFile(join(pkg, 'module.wasm'), randomBytes(48 * 1024 * 1024));
    for (let i = 0; i < 200; i++) await writeFile(join(pkg, 'data', `f${i}.bin`), randomBytes(80 * 1024));
    const totalMiB = 48 + (200 * 80) / 1024;

    const packMs: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const layout = new LayoutTarget(join(root, `layout${i}`));
      const start = process.hrtime.bigint();
      await pack(pkg, () => layout);
      packMs.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    const refMs: number[] = [];
    for (let i = 0; i < RUNS; i++) refMs.push(timeCommand('sh', ['-c', `tar -cf - -C ${pkg} . | sha256sum`]));
    const pack_ms = median(packMs);
    const ref_ms = median(refMs);
    return {
      package_mib: round(totalMiB, 1),
      pack_ms_median: round(pack_ms),
      pack_mib_per_s: round(totalMiB / (pack_ms / 1000), 1),
      tar_sha256sum_ms_median: round(ref_ms),
      ratio_pack_vs_tar_sha256sum: round(pack_ms / ref_ms),
    };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
