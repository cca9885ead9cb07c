import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median, REPO_ROOT, round } from './util.js';

// Start-up figures (issue 15), all in one run with `node -e 0` as the reference, medians of STARTUP_RUNS (default
// 15) runs, the cases interleaved so that load changes hit every case alike:
// - version_ms: `aionctl --version`, whole process via bin/run.js; version_over_node_ratio (= version_vs_node).
// - <cmd>_ms / <cmd>_oclif_ms: a hot command whole process through the fast dispatch and through plain oclif
//   (AIONCTL_FAST_START=off), on paths that do little work, so start-up dominates. stamp, validate and pull run
//   without @oclif/core (src/lib/cli/lite.ts); verify and run with oclif and the root plugin only; stamp --help is
//   declined by the fast path and answered by oclif.
// - import_ms_<cmd>: importing the command's module once @oclif/core is loaded (what the command itself adds).

interface Case {
  name: string;
  args: string[];
  env?: Record<string, string>;
  cwd?: string;
}

function timeOnce(c: Case, baseEnv: NodeJS.ProcessEnv): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, c.args, {
    cwd: c.cwd ?? REPO_ROOT,
    env: { ...baseEnv, ...c.env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status === null || r.status > 9) throw new Error(`${c.name}: exited ${r.status}: ${r.stderr}`);
  return ms;
}

/** In-process import time (ms) of one command module after @oclif/core is loaded, printed by a child process. */
function importOnce(cmd: string, baseEnv: NodeJS.ProcessEnv): number {
  const file = join(REPO_ROOT, 'dist', 'src', 'commands', `${cmd}.js`);
  const script = `await import('@oclif/core'); const t = performance.now(); await import(${JSON.stringify(
    file,
  )}); process.stdout.write(String(performance.now() - t));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: REPO_ROOT,
    env: baseEnv,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`import ${cmd}: exited ${r.status}: ${r.stderr}`);
  return Number(r.stdout);
}

export async function startupBench(): Promise<Record<string, number>> {
  const runs = Math.max(3, Number(process.env.STARTUP_RUNS ?? 15));
  const bin = join(REPO_ROOT, 'bin', 'run.js');
  const work = mkdtempSync(join(tmpdir(), 'aionctl-bench-startup-'));
  try {
    const plain = join(work, 'plain');
    mkdirSync(join(plain, 'src'), { recursive: true });
    writeFileSync(join(plain, 'a.sh'), '#!/bin/sh\necho hi\n');
    writeFileSync(join(plain, 'src', 'b.py'), 'print("hi")\n');
    const baseEnv: NodeJS.ProcessEnv = {
      ...process.env,
      AIONCTL_HOME: join(work, 'home'),
      AIONCTL_DAEMON: 'off',
      NO_COLOR: '1',
    };
    const off = { AIONCTL_FAST_START: 'off' };
    const hot: Array<[string, string[], string?]> = [
      ['stamp_check', ['stamp', '--check', '.'], plain],
      ['validate', ['validate', join(REPO_ROOT, 'examples', 'summarize-wasm')]],
      ['verify_usage', ['verify']],
      ['run_not_found', ['run', '--input-json', '{}', 'no_such_package']],
      ['pull_not_found', ['pull', `oci:${join(work, 'no-layout')}:v1`, '-q']],
      ['stamp_help', ['stamp', '--help']],
    ];
    const cases: Case[] = [
      { name: 'node_e0', args: ['-e', '0'] },
      { name: 'version', args: [bin, '--version'] },
      { name: 'version_oclif', args: [bin, '--version'], env: off },
      ...hot.flatMap(([name, args, cwd]): Case[] => [
        { name, args: [bin, ...args], ...(cwd ? { cwd } : {}) },
        { name: `${name}_oclif`, args: [bin, ...args], env: off, ...(cwd ? { cwd } : {}) },
      ]),
    ];
    const times: Record<string, number[]> = {};
    const imports: Record<string, number[]> = {};
    for (let i = 0; i < runs; i++) {
      for (const c of cases) (times[c.name] ??= []).push(timeOnce(c, baseEnv));
      for (const cmd of ['stamp', 'validate', 'verify', 'run']) (imports[cmd] ??= []).push(importOnce(cmd, baseEnv));
    }
    const med = (name: string) => median(times[name] ?? []);
    const node = med('node_e0');
    const version = med('version');
    const figures: Record<string, number> = {
      runs,
      node_e0_ms: round(node),
      version_ms: round(version),
      version_over_node_ratio: round(version / node),
      version_vs_node: round(version / node),
      version_oclif_ms: round(med('version_oclif')),
    };
    for (const [name] of hot) {
      figures[`${name}_ms`] = round(med(name));
      figures[`${name}_oclif_ms`] = round(med(`${name}_oclif`));
      figures[`${name}_vs_node`] = round(med(name) / node);
      figures[`${name}_vs_oclif`] = round(med(name) / med(`${name}_oclif`));
    }
    for (const [cmd, values] of Object.entries(imports)) figures[`import_ms_${cmd}`] = round(median(values));
    return figures;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
