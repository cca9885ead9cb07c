import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdir, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { utimesSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type StampRunOptions, type StampRunResult, stampFiles } from '../../src/lib/stamp/index.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { fixedContext } from './helpers.js';

let root: { path: string; cleanup: () => Promise<void> };
let n = 0;

before(async () => {
  root = await tempDir('aionctl-stamp-speed-');
});
after(async () => root.cleanup());

/** A mixed tree: every kind stamp meets (current, missing, stale, malformed, skipped, duplicate uuid, symlink). */
async function mixedTree(count: number): Promise<string> {
  const dir = join(root.path, `t${++n}`);
  const kinds: Array<[string, (i: number) => string]> = [
    ['py', (i) => `#!/usr/bin/env python3\ndef f${i}():\n    return ${i}\n`],
    ['ts', (i) => `export const x${i} = ${i};\n`],
    ['md', (i) => `# Doc ${i}\n\nText ${i}\r\nmore\r\n`],
    ['css', (i) => `.c${i} { color: red; }\n`],
    ['yaml', (i) => `name: n${i}\n`],
  ];
  for (let i = 0; i < count; i++) {
    const sub = join(dir, `d${i % 7}`);
    await mkdir(sub, { recursive: true });
    const [ext, make] = kinds[i % kinds.length]!;
    await writeFile(join(sub, `f${i}.${ext}`), make(i));
  }
  await writeFile(join(dir, 'data.json'), '{"a": 1}\n');
  await writeFile(join(dir, 'bin.py'), Buffer.from([0x23, 0, 1, 2]));
  await symlink('d0/f0.py', join(dir, 'link.py'));
  return dir;
}

// Random uuids for new blocks (as workers draw them): counted ones would repeat the first stamp's.
const ctx = () => fixedContext({ defaults: { owner: 'Speed Test' }, newUuid: randomUUID });

function run(dir: string, extra: Partial<StampRunOptions> = {}): Promise<StampRunResult> {
  return stampFiles({
    cwd: dir,
    paths: [],
    exclude: [],
    ignore: [],
    check: true,
    strict: false,
    context: ctx(),
    ...extra,
  });
}

/** Results without what depends on the uuid source (workers draw random uuids for files that get a new block). */
function comparable(result: StampRunResult): unknown {
  return {
    ...result,
    files: result.files.map((f) => (f.reason === 'missing' ? { ...f, hash: undefined, uuid: undefined } : f)),
  };
}

async function edit(dir: string): Promise<void> {
  // stale: body edited after stamping; malformed: an opener without a closer; duplicate: a copied file.
  await writeFile(join(dir, 'd1/f1.ts'), `${await readFile(join(dir, 'd1/f1.ts'), 'utf8')}// edited\n`);
  await writeFile(join(dir, 'd2/bad.py'), '# === OmniNode:Metadata ===\n# owner: x\nprint(1)\n');
  await writeFile(join(dir, 'd3/copy.py'), await readFile(join(dir, 'd0/f0.py')));
  await writeFile(join(dir, 'new.sh'), 'echo new\n');
}

describe('parallel reading: workers give the same results, order and exit code as one thread', () => {
  it('check and stamp over a mixed tree, workers only vs main thread only', async () => {
    const dir = await mixedTree(300);
    const stampedSerial = await run(dir, { check: false, threads: 1 });
    assert.equal(stampedSerial.summary.stamped, 300);
    await edit(dir);
    const serial = await run(dir, { threads: 1 });
    const parallel = await run(dir, { threads: 3, mainThreadIdle: true });
    const mixed = await run(dir, { threads: 2 });
    assert.equal(serial.exitCode, 3, 'the malformed file is an error');
    assert.ok(serial.summary['would-stamp'] >= 2 && serial.summary.unchanged > 250, JSON.stringify(serial.summary));
    assert.equal(serial.duplicates.length, 1, 'the copied file shares a uuid');
    assert.deepEqual(comparable(parallel), comparable(serial));
    assert.deepEqual(comparable(mixed), comparable(serial));
    assert.deepEqual(
      parallel.files.map((f) => f.path),
      [...parallel.files.map((f) => f.path)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
    );
  });

  it('stamping with workers writes the same files as one thread (uuids aside)', async () => {
    const a = await mixedTree(120);
    const b = await mixedTree(120);
    const one = await run(a, { check: false, threads: 1 });
    const many = await run(b, { check: false, threads: 3, mainThreadIdle: true });
    assert.deepEqual(
      many.files.map((f) => [f.path, f.status, f.reason]),
      one.files.map((f) => [f.path, f.status, f.reason]),
    );
    const strip = (t: string) => t.replace(/"[0-9a-f-]{36}"/g, 'U').replace(/"[0-9a-f]{64}"/g, 'H');
    for (const f of one.files.filter((x) => x.status === 'stamped')) {
      assert.equal(strip(await readFile(join(b, f.path), 'utf8')), strip(await readFile(join(a, f.path), 'utf8')));
    }
    assert.equal((await run(b, { threads: 3, mainThreadIdle: true })).exitCode, 0, 'clean after stamping');
  });
});

describe('stat cache', () => {
  const later = () => BigInt(Date.now() + 60_000) * 1_000_000n;

  async function cached(dir: string, cacheDir: string, now?: () => bigint) {
    const notes: string[] = [];
    const result = await run(dir, {
      threads: 1,
      cache: { dir: cacheDir, version: '1.0.0-test', debug: (l) => notes.push(l), now },
    });
    const hits = /stamp cache: (\d+) of/.exec(notes.join('\n'));
    return { result, notes, hits: hits ? Number(hits[1]) : -1 };
  }

  async function cacheFile(cacheDir: string): Promise<string> {
    const names = await readdir(join(cacheDir, 'stamp'));
    assert.equal(names.length, 1, names.join(' '));
    return join(cacheDir, 'stamp', names[0]!);
  }

  it('a repeat check reads only what changed; the findings are the same as without the cache', async () => {
    const dir = await mixedTree(60);
    await run(dir, { check: false, threads: 1 });
    const cacheDir = join(root.path, `cache${++n}`);
    const cold = await cached(dir, cacheDir, later);
    assert.equal(cold.hits, 0);
    const file = await cacheFile(cacheDir);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const warm = await cached(dir, cacheDir, later);
    assert.equal(warm.hits, 60, warm.notes.join('\n'));
    assert.deepEqual(warm.result, cold.result);
    assert.deepEqual(warm.result, await run(dir, { threads: 1 }));
    // A stale file is found through the cache; the cache forgets it.
    await writeFile(join(dir, 'd1/f1.ts'), `${await readFile(join(dir, 'd1/f1.ts'), 'utf8')}x\n`);
    const afterEdit = await cached(dir, cacheDir, later);
    assert.equal(afterEdit.hits, 59);
    assert.equal(afterEdit.result.files.find((f) => f.path === join('d1', 'f1.ts'))?.reason, 'stale');
    assert.equal(afterEdit.result.exitCode, 1);
  });

  it('an edit that keeps size and mtime is still found (ctime changed); racily clean entries are re-read', async () => {
    const dir = await mixedTree(10);
    await run(dir, { check: false, threads: 1 });
    const cacheDir = join(root.path, `cache${++n}`);
    // Verified "now": every file was written within the racy window, so none may be trusted later.
    await cached(dir, cacheDir);
    assert.equal((await cached(dir, cacheDir)).hits, 0, 'racily clean entries are read again');
    await cached(dir, cacheDir, later);
    assert.equal((await cached(dir, cacheDir, later)).hits, 10);
    const target = join(dir, 'd2/f2.md');
    const before = await stat(target, { bigint: true });
    const text = await readFile(target, 'utf8');
    // touch -r copies timestamps to the nanosecond (utimes through a JS number would round them).
    const ref = join(root.path, `ref${++n}`);
    await writeFile(ref, '');
    execFileSync('touch', ['-r', target, ref]);
    await writeFile(target, text.replace('Text 2', 'Txet 2'));
    execFileSync('touch', ['-r', ref, target]);
    const after = await stat(target, { bigint: true });
    assert.equal(after.size, before.size);
    assert.equal(after.mtimeNs, before.mtimeNs);
    assert.notEqual(after.ctimeNs, before.ctimeNs);
    const check = await cached(dir, cacheDir, later);
    assert.equal(check.hits, 9);
    assert.equal(check.result.files.find((f) => f.path === join('d2', 'f2.md'))?.reason, 'stale');
  });

  it('a run that does not visit a racily clean entry does not carry it over as trusted', async () => {
    const dir = await mixedTree(10);
    await run(dir, { check: false, threads: 1 });
    const cacheDir = join(root.path, `cache${++n}`);
    await cached(dir, cacheDir);
    await run(dir, {
      threads: 1,
      paths: [join('d0', 'f0.py')],
      cache: { dir: cacheDir, version: '1.0.0-test', now: later },
    });
    assert.equal((await cached(dir, cacheDir, later)).hits, 1, 'only the file the later run verified');
  });

  it('odd timestamps (before 1970, a tiny fraction) never spoil the cache file for the other files', async () => {
    const dir = await mixedTree(10);
    await run(dir, { check: false, threads: 1 });
    execFileSync('touch', ['-d', '@-999.75', join(dir, 'd0/f0.py')]);
    utimesSync(join(dir, 'd1/f1.ts'), 0.0000012, 0.0000012);
    const cacheDir = join(root.path, `cache${++n}`);
    await cached(dir, cacheDir, later);
    const warm = await cached(dir, cacheDir, later);
    assert.ok(!warm.notes.some((l) => l.includes('ignored')), warm.notes.join('\n'));
    // The file before 1970 is not recorded (read every time); the tiny fraction round-trips.
    assert.equal(warm.hits, 9, warm.notes.join('\n'));
    assert.deepEqual(warm.result, await run(dir, { threads: 1 }));
  });

  it('a corrupt, foreign, other-version or hostile cache file is ignored with a note, never trusted', async () => {
    const dir = await mixedTree(10);
    await run(dir, { check: false, threads: 1 });
    const cacheDir = join(root.path, `cache${++n}`);
    await cached(dir, cacheDir, later);
    const file = await cacheFile(cacheDir);
    const good = await readFile(file, 'utf8');
    const [head, ...rest] = good.split('\n');
    const lines = rest.slice(0, -2);
    // Make a file stale, then a cache that would vouch for it if it were trusted.
    const target = join(dir, 'd3/f3.css');
    await writeFile(target, `${await readFile(target, 'utf8')}.x{}\n`);
    const s = await stat(target);
    const vouch = lines.map((l) =>
      l.endsWith(` ${target}`)
        ? `${l.slice(0, 101)} ${s.size} ${s.mtimeMs} ${s.ctimeMs} ${s.ino} ${s.dev} ${target}`
        : l,
    );
    assert.notDeepEqual(vouch, lines);
    const uuid = lines[0]!.slice(65, 101);
    const cache = (h: string, entries: string[], count = entries.length) =>
      `${[h, ...entries, `end ${count}`].join('\n')}\n`;
    const [format, version, key, at] = head!.split(' ');
    const variants: Array<[string, string]> = [
      ['not a stamp cache', '{"format": "aionctl-stamp-stat-cache", "entr'],
      ['not a stamp cache', cache(`something-else ${version} ${key} ${at}`, vouch)],
      ['format version 1', cache(`${format} 1 ${key} ${at}`, vouch)],
      ['written for other stamp settings', cache(`${format} ${version} ${'f'.repeat(64)} ${at}`, vouch)],
      ['no verification time', cache(`${format} ${version} ${key} -1`, vouch)],
      ['incomplete', cache(head!, vouch).slice(0, -1)],
      ['incomplete', cache(head!, vouch, vouch.length + 1)],
      ['incomplete', cache(head!, vouch.slice(1), vouch.length)],
      ['a bad uuid', cache(head!, [...vouch, `${'a'.repeat(64)} no ${vouch[0]!.slice(101)}`])],
      ['a bad hash', cache(head!, [...vouch, `${'A'.repeat(64)} ${vouch[0]!.slice(65)}`])],
      ['a bad number', cache(head!, [...vouch, `${'a'.repeat(64)} ${uuid} -1 1 1 1 1 /y`])],
      ['a bad number', cache(head!, [...vouch, `${'a'.repeat(64)} ${uuid} 1 1e3 1 1 1 /y`])],
      ['a bad number', cache(head!, [...vouch, `${'a'.repeat(64)} ${uuid} 1 1 1 1.5 1 /y`])],
      ['a malformed entry', cache(head!, [...vouch, `${'a'.repeat(64)} ${uuid} 1 1 1 1 1 `])],
      ['a malformed entry', cache(head!, [...vouch, vouch[0]!])],
    ];
    for (const [why, text] of variants) {
      await writeFile(file, text);
      const r = await cached(dir, cacheDir, later);
      assert.ok(
        r.notes.some((l) => l.includes(why) && l.includes('ignored')),
        `${why}: ${r.notes.join('\n')}`,
      );
      assert.equal(r.hits, 0, why);
      assert.equal(r.result.files.find((f) => f.path === join('d3', 'f3.css'))?.reason, 'stale', why);
    }
    // Deleting the cache is always safe.
    await rm(join(cacheDir, 'stamp'), { recursive: true });
    assert.equal((await cached(dir, cacheDir, later)).result.exitCode, 1);
  });

  it('the cache is keyed by the settings that decide "current": other overrides never reuse it', async () => {
    const dir = await mixedTree(10);
    await run(dir, { check: false, threads: 1 });
    const cacheDir = join(root.path, `cache${++n}`);
    await cached(dir, cacheDir, later);
    assert.equal((await cached(dir, cacheDir, later)).hits, 10);
    const notes: string[] = [];
    const other = await run(dir, {
      threads: 1,
      context: fixedContext({ defaults: { owner: 'Speed Test' }, overrides: { owner: 'Someone Else' } }),
      cache: { dir: cacheDir, version: '1.0.0-test', debug: (l) => notes.push(l), now: later },
    });
    assert.match(notes.join('\n'), /stamp cache: 0 of 13 /);
    assert.equal(other.summary['would-stamp'], 10);
  });

  it('the defaults are not part of the key: a --check that knows no default owner reuses the cache', async () => {
    const dir = await mixedTree(10);
    await run(dir, { check: false, threads: 1 });
    const cacheDir = join(root.path, `cache${++n}`);
    await cached(dir, cacheDir, later);
    const notes: string[] = [];
    const noOwner = await run(dir, {
      threads: 1,
      context: fixedContext({ defaults: {} }),
      cache: { dir: cacheDir, version: '1.0.0-test', debug: (l) => notes.push(l), now: later },
    });
    assert.match(notes.join('\n'), /stamp cache: 10 of 13 /);
    assert.equal(noOwner.summary.unchanged, 10);
  });

  it('CLI: --no-cache writes no cache; --debug notes a corrupt cache and the check still runs', async () => {
    const dir = await mixedTree(5);
    const home = join(root.path, `home${++n}`);
    const env = { AIONCTL_HOME: home, SOURCE_DATE_EPOCH: '1700000000' };
    assert.equal((await runCli(['stamp', '--quiet', '--owner', 'T'], { cwd: dir, env })).code, 0);
    await rm(join(home, 'cache'), { recursive: true, force: true });
    assert.equal((await runCli(['stamp', '--check', '--no-cache', '--owner', 'T'], { cwd: dir, env })).code, 0);
    await assert.rejects(stat(join(home, 'cache', 'stamp')), /ENOENT/);
    assert.equal((await runCli(['stamp', '--check', '--owner', 'T'], { cwd: dir, env })).code, 0);
    const file = await cacheFile(join(home, 'cache'));
    await writeFile(file, 'garbage');
    const r = await runCli(['stamp', '--check', '--debug', '--owner', 'T'], { cwd: dir, env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /debug: stamp cache .*not a stamp cache; ignored/);
    assert.match(r.stdout, /check: 8 files: 0 to stamp, 5 up to date/);
  });
});
