// Listing what `pack` would include (ignore rules applied): a package with 5,000 files in 100 directories, a
// node_modules of 20,000 files (skipped without being walked) and a 20-rule .gitignore; median of 5 runs of
// listPackageFiles against `find` pruning the same directories (walking the same tree once), measured in the same run.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listPackageFiles } from '../src/lib/oci/index.js';
import { median, round, timeCommand } from './util.js';

const RUNS = 5;

export async function packIgnoreBench(): Promise<Record<string, number | string>> {
  const root = await mkdtemp(join(tmpdir(), 'aionctl-bench-ignore-'));
  try {
    for (let d = 0; d < 100; d++) {
      await mkdir(join(root, 'src', `d${d}`), { recursive: true });
      for (let f = 0; f < 50; f++)
        await writeFile(join(root, 'src', `d${d}`, `f${f}.${f % 5 === 0 ? 'log' : 'txt'}`), 'x');
    }
    for (let d = 0; d < 200; d++) {
      await mkdir(join(root, 'node_modules', `m${d}`), { recursive: true });
      for (let f = 0; f < 100; f++) await writeFile(join(root, 'node_modules', `m${d}`, `f${f}.js`), 'x');
    }
    const rules = ['*.log', '!src/d1/f0.log', 'build/', '/dist', 'coverage/', '**/tmp/**'];
    for (let i = 0; i < 14; i++) rules.push(`src/d${i * 7}/f4${i % 10}.txt`);
    await writeFile(join(root, '.gitignore'), `${rules.join('\n')}\n`);
    const listMs: number[] = [];
    let count = 0;
    for (let i = 0; i < RUNS; i++) {
      const start = process.hrtime.bigint();
      count = (await listPackageFiles(root)).length;
      listMs.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    const findMs: number[] = [];
    for (let i = 0; i < RUNS; i++)
      findMs.push(
        timeCommand('sh', [
          '-c',
          `find ${root} \\( -name node_modules -o -name '.*' \\) -prune -o -type f ! -name '*.log' -print | wc -l`,
        ]),
      );
    return {
      files: count,
      listMedianMs: round(median(listMs)),
      findMedianMs: round(median(findMs)),
      ratioVsFind: round(median(listMs) / median(findMs)),
    };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
