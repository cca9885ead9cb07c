import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { medianOf, REPO_ROOT, round, timeCommand } from './util.js';

const FILES = 10_000;
const RUNS = 5;

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

/**
 * `aionctl stamp --check` over a stamped tree of 10,000 mixed files (the CI case) against `sha256sum` of the same
 * files, both median of 5 in this run. Also the first stamp of the unstamped tree, and the check inside git.
 */
export async function stampBench(): Promise<Record<string, number>> {
  const root = mkdtempSync(join(tmpdir(), 'aionctl-bench-stamp-'));
  try {
    const files = generateTree(root);
    const bin = join(REPO_ROOT, 'bin', 'run.js');
    const env = { ...process.env, AIONCTL_HOME: join(root, '.home'), NO_COLOR: '1' };
    const aionctl = (args: string[]) =>
      timeCommand(process.execPath, [bin, 'stamp', '--quiet', ...args], { cwd: root, env });
    const firstStamp = aionctl([]);
    const sha = medianOf(RUNS, () => timeCommand('sha256sum', files, { cwd: root }));
    const check = medianOf(RUNS, () => aionctl(['--check']));
    const verify = spawnSync(process.execPath, [bin, 'stamp', '--check', '--quiet'], { cwd: root, env });
    if (verify.status !== 0) throw new Error(`stamp --check is not clean after stamp (exit ${verify.status})`);
    spawnSync('git', ['init', '-q'], { cwd: root });
    spawnSync('git', ['add', '-A'], { cwd: root });
    const checkGit = medianOf(RUNS, () => aionctl(['--check']));
    return {
      files: FILES,
      first_stamp_ms: round(firstStamp),
      check_ms: round(check),
      check_files_per_s: Math.round(FILES / (check / 1000)),
      check_in_git_ms: round(checkGit),
      sha256sum_ms: round(sha),
      sha256sum_files_per_s: Math.round(FILES / (sha / 1000)),
      check_over_sha256sum_ratio: round(check / sha),
      check_in_git_over_sha256sum_ratio: round(checkGit / sha),
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
