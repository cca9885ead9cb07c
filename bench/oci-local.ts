// `pack` throughput: a 64 MiB package (one 48 MiB module, 200 small files) packed into a fresh OCI layout, median
// of 5, against `tar -cf - DIR | sha256sum` (reading and hashing the same bytes once) and the same with a synced
// copy written (`| tee FILE`, `sync FILE`), both measured in the same run.
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
    // `\0asm` + version: pack validates that runtime.module is a wasm module.
    const wasmHeader = Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
    await writeFile(join(pkg, 'module.wasm'), Buffer.concat([wasmHeader, randomBytes(48 * 1024 * 1024)]));
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
    // the same plus writing a copy and syncing it: closer to what pack does (it stores every byte, fsynced)
    const writeMs: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const out = join(root, `copy${i}.tar`);
      writeMs.push(timeCommand('sh', ['-c', `tar -cf - -C ${pkg} . | tee ${out} | sha256sum && sync ${out}`]));
    }
    const pack_ms = median(packMs);
    const ref_ms = median(refMs);
    const write_ms = median(writeMs);
    return {
      package_mib: round(totalMiB, 1),
      pack_ms_median: round(pack_ms),
      pack_mib_per_s: round(totalMiB / (pack_ms / 1000), 1),
      tar_sha256sum_ms_median: round(ref_ms),
      ratio_pack_vs_tar_sha256sum: round(pack_ms / ref_ms),
      tar_tee_sha256sum_sync_ms_median: round(write_ms),
      ratio_pack_vs_tar_tee_sha256sum_sync: round(pack_ms / write_ms),
    };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
