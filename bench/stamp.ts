import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median, medianOf, REPO_ROOT, round, timeCommand } from './util.js';

const FILES = Number(process.env.AIONCTL_BENCH_STAMP_FILES ?? 10_000);
const RUNS = Math.max(5, Number(process.env.AIONCTL_BENCH_STAMP_RUNS ?? 7));
/** The stat cache re-reads files changed within 2 s of the run that verified them (racily clean). */
const RACY_MS = 2_100;

/** Mixed types, sizes 0.3-6 KiB, 100 per directory; ~2% JSON (skipped) like a real repository. */
const KINDS: Array<[string, (i: number) => string]> = [
  ['py', (i) => `#!/usr/bin/env python3\n\ndef f${i}(x):\n    return x * ${i}\n`],
  ['ts', (i) => `export function f${i}(x: number): number {\n  return x * ${i};\n}\n`],
  ['md', (i) => `# Document ${i}\n\nSome prose about item ${i}.\n`],
  ['go', (i) => `package p\n\nfunc F${i}(x int) int { return x * ${i} }\n`],
  ['yaml', (i) => `name: item-${i}\nvalues: [1, 2, 3]\n`],
  ['css', (i) => `.c${i} { color: #${(i % 4096).toString(16).padStart(3, '0')}; }\n`],
  ['sh', (i) => `#!/bin/sh\necho ${i}\n`],
  ['sql', (i) => `select ${i} as n;\n`],
];

function generateTree(root: string): string[] {
  const files: string[] = [];
  for (let i = 0; i < FILES; i++) {
    const dir = `d${Math.floor(i / 100)}`;
    if (i % 100 === 0) mkdirSync(join(root, dir), { recursive: true });
    const json = i % 50 === 49;
    const [ext, make] = KINDS[i % KINDS.length]!;
    const rel = json ? `${dir}/data${i}.json` : `${dir}/file${i}.${ext}`;
    const padding = json
      ? ''
      : `${'\n'}${make(i)
          .replace(/^#!.*\n/, '')
          .repeat(1 + (i % 60))}`;
    writeFileSync(join(root, rel), json ? `{"n": ${i}}\n` : make(i) + padding);
    files.push(rel);
  }
  return files;
}

/** CPU time (user + sys, ms) of one command, from bash's `times`: steadier than wall time on a busy machine. */
function cpuTime(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): number {
  const r = spawnSync('bash', ['-c', '"$@" >/dev/null 2>&1; times', 'bash', cmd, ...args], {
    cwd,
    env,
    encoding: 'utf8',
  });
  const children = r.stdout.trim().split('\n').at(-1) ?? '';
  const seconds = [...children.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
  if (seconds.length !== 2) throw new Error(`cannot read CPU time from bash times: ${r.stdout}`);
  return (seconds[0]! + seconds[1]!) * 1000;
}

/**
 * `aionctl stamp --check` over a stamped tree of 10,000 mixed files (the CI case) against `sha256sum` of the same
 * files, medians of 7 interleaved runs, the whole CLI process each time. Cold: no stat cache (deleted before each
 * run, so its write is paid too); warm: the cache of an earlier run (files unchanged since). Also the first stamp
 * of the unstamped tree, --no-cache, and the check inside git. AIONCTL_BENCH_STAMP_FILES / _RUNS resize it.
 */
export async function stampBench(): Promise<Record<string, number>> {
  const root = mkdtempSync(join(tmpdir(), 'aionctl-bench-stamp-'));
  try {
    const files = generateTree(root);
    const bin = join(REPO_ROOT, 'bin', 'run.js');
    const home = join(root, '.home');
    const env = { ...process.env, AIONCTL_HOME: home, NO_COLOR: '1' };
    const aionctl = (args: string[]) =>
      timeCommand(process.execPath, [bin, 'stamp', '--quiet', ...args], { cwd: root, env });
    const dropCache = () => rmSync(join(home, 'cache'), { recursive: true, force: true });
    const firstStamp = aionctl([]);
    // Let the stamped files age past the racy window, so the warm runs can trust what the cold ones verified.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, RACY_MS);
    // Interleaved, so all see the same machine load (other work on a shared machine skews back-to-back series).
    const shaRuns: number[] = [];
    const coldRuns: number[] = [];
    const noCacheRuns: number[] = [];
    const warmRuns: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      shaRuns.push(timeCommand('sha256sum', files, { cwd: root }));
      dropCache();
      coldRuns.push(aionctl(['--check']));
      noCacheRuns.push(aionctl(['--check', '--no-cache']));
    }
    dropCache();
    aionctl(['--check']);
    for (let i = 0; i < RUNS; i++) {
      shaRuns.push(timeCommand('sha256sum', files, { cwd: root }));
      warmRuns.push(aionctl(['--check']));
    }
    const sha = median(shaRuns);
    const cold = median(coldRuns);
    const warm = median(warmRuns);
    const noCache = median(noCacheRuns);
    const shaCpu = medianOf(RUNS, () => cpuTime('sha256sum', files, root, env));
    const checkCpu = medianOf(RUNS, () =>
      cpuTime(process.execPath, [bin, 'stamp', '--check', '--quiet', '--no-cache'], root, env),
    );
    const verify = spawnSync(process.execPath, [bin, 'stamp', '--check', '--quiet'], { cwd: root, env });
    if (verify.status !== 0) throw new Error(`stamp --check is not clean after stamp (exit ${verify.status})`);
    spawnSync('git', ['init', '-q'], { cwd: root });
    spawnSync('git', ['add', '-A'], { cwd: root });
    const checkGit = medianOf(RUNS, () => aionctl(['--check', '--no-cache']));
    return {
      files: FILES,
      first_stamp_ms: round(firstStamp),
      stamp_check_cold_ms: round(cold),
      stamp_check_warm_ms: round(warm),
      sha256sum_ms: round(sha),
      stamp_check_cold_vs_sha256sum: round(cold / sha),
      stamp_check_warm_vs_sha256sum: round(warm / sha),
      check_ms: round(noCache),
      check_files_per_s: Math.round(FILES / (noCache / 1000)),
      check_in_git_ms: round(checkGit),
      sha256sum_files_per_s: Math.round(FILES / (sha / 1000)),
      check_over_sha256sum_ratio: round(noCache / sha),
      check_cpu_ms: round(checkCpu),
      sha256sum_cpu_ms: round(shaCpu),
      check_over_sha256sum_cpu_ratio: round(checkCpu / shaCpu),
      check_in_git_over_sha256sum_ratio: round(checkGit / sha),
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
