import assert from 'node:assert/strict';
import { lstat, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type CliResult, parseJson, runCli, tempDir } from '../helpers/cli.js';
import { folderDestination, makeKeys, seedUniverse, writeProject } from '../helpers/packages.js';

interface InstallJson {
  lockfileChanged: boolean;
  fromLockfile: boolean;
  packages: { name: string; version: string; digest: string; fetched: boolean; path: string }[];
}
const errorOf = (r: CliResult) => parseJson<{ error: { code: string; message: string } }>(r).error;

describe('install from an oci: folder (one layout per package)', () => {
  let root: string;
  let cleanup: () => Promise<void>;
  let folder: string;
  let digests: Map<string, string>;
  let pub: string;
  let n = 0;

  before(async () => {
    ({ path: root, cleanup } = await tempDir('aionctl-install-'));
    folder = join(root, 'pkgs');
    const keys = await makeKeys(join(root, 'keys'));
    pub = keys.trustedPub;
    digests = await seedUniverse(join(root, 'work'), keys, [folderDestination(folder)]);
  });
  after(() => cleanup());

  /** A fresh project + AIONCTL_HOME. */
  async function project(packages: Record<string, string>) {
    const dir = join(root, `p${++n}`);
    await writeProject(dir, { registry: `oci:${folder}`, trustMatch: [`oci:${folder}/*`], trustedPub: pub, packages });
    const env = { AIONCTL_HOME: join(dir, 'home'), CI: '' };
    const cli = (args: string[]) => runCli(args, { cwd: dir, env });
    return { dir, env, cli };
  }

  it('resolves a diamond to the highest version both ranges accept, locks it and extracts read-only files', async () => {
    const { dir, cli } = await project({ app: '^1.0.0' });
    const r = await cli(['install', '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const result = parseJson<InstallJson>(r);
    assert.deepEqual(
      result.packages.map((p) => `${p.name}@${p.version}`),
      ['base@1.1.5', 'left@1.0.0', 'right@1.0.0', 'app@1.0.0'],
    );
    for (const p of result.packages) assert.equal(p.digest, digests.get(`${p.name}@${p.version}`));
    const lock = JSON.parse(await readFile(join(dir, 'aionctl.lock'), 'utf8'));
    assert.deepEqual(Object.keys(lock.packages), ['app', 'base', 'left', 'right']);
    assert.deepEqual(lock.packages.base.requested, ['^1.1.0', '~1.1.0']);
    assert.equal(lock.packages.base.digest, digests.get('base@1.1.5'));
    assert.match(lock.packages.base.signer, /^[a-f0-9]{64}$/);
    assert.deepEqual(lock.packages.app.dependencies, { left: '^1.0.0', right: '^1.0.0' });
    const aip = join(dir, '.aionctl', 'packages', 'base', 'aip.yaml');
    assert.match(await readFile(aip, 'utf8'), /version: "1\.1\.5"/);
    assert.equal((await stat(aip)).mode & 0o222, 0, 'installed files are read-only');
    // a second install reads the lockfile and changes nothing
    const again = parseJson<InstallJson>(await cli(['install', '--json']));
    assert.equal(again.fromLockfile, true);
    assert.equal(again.lockfileChanged, false);
    assert.ok(again.packages.every((p) => !p.fetched));
    const ls = parseJson<{ packages: { name: string; direct: boolean; installed: boolean }[] }>(
      await cli(['ls', '--json']),
    );
    assert.deepEqual(
      ls.packages.map((p) => [p.name, p.direct, p.installed]),
      [
        ['app', true, true],
        ['base', false, true],
        ['left', false, true],
        ['right', false, true],
      ],
    );
    const verify = await cli(['verify', '--lockfile', 'aionctl.lock', '--json']);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    assert.equal(parseJson<unknown[]>(verify).length, 4);
  });

  it('prereleases only when the range names one; a +build version comes from its _ tag', async () => {
    const { dir, cli } = await project({ base: '>=1.2.0 <2.0.0', tool: '^1.0.0' });
    const r = await cli(['install', '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const got = Object.fromEntries(parseJson<InstallJson>(r).packages.map((p) => [p.name, p.version]));
    assert.deepEqual(got, { base: '1.2.0', tool: '1.0.1+build.7' });
    const lock = JSON.parse(await readFile(join(dir, 'aionctl.lock'), 'utf8'));
    assert.equal(lock.packages.tool.tag, '1.0.1_build.7');
    const pre = await cli(['install', 'base@^1.3.0-rc.0', '--json']);
    assert.equal(pre.code, 0, pre.stdout + pre.stderr);
    assert.equal(parseJson<InstallJson>(pre).packages.find((p) => p.name === 'base')!.version, '1.3.0-rc.1');
    assert.match(await readFile(join(dir, '.aionctl.yaml'), 'utf8'), /base: "?\^1\.3\.0-rc\.0/);
  });

  it('a conflict prints both paths and the versions that exist; a cycle prints the cycle', async () => {
    const { dir, cli } = await project({ app: '^1.0.0', cx: '^1.0.0' });
    const r = await cli(['install', '--json']);
    assert.equal(r.code, 7, r.stdout + r.stderr);
    const e = errorOf(r);
    assert.equal(e.code, 'LC002');
    assert.match(e.message, /app@1\.0\.0 -> (left|right)@1\.0\.0 -> base@[~^]1\.1\.0/);
    assert.match(e.message, /cx@1\.0\.0 -> base@\^2\.0\.0/);
    assert.match(e.message, /available: 1\.0\.0, 1\.1\.0, 1\.1\.5, 1\.2\.0, 1\.3\.0-rc\.1, 2\.0\.0/);
    await assert.rejects(lstat(join(dir, 'aionctl.lock')));
    const cyc = await project({ cyca: '^1.0.0' });
    const c = await cyc.cli(['install', '--json']);
    assert.equal(errorOf(c).code, 'LC003');
    assert.match(errorOf(c).message, /cyca@1\.0\.0 -> cycb@1\.0\.0 -> cyca@1\.0\.0/);
  });

  it('refuses unsigned and untrusted packages: nothing written, the package quarantined', async () => {
    for (const name of ['unsigned', 'rogue']) {
      const { dir, env, cli } = await project({ base: '^1.0.0', [name]: '^1.0.0' });
      const r = await cli(['install', '--json']);
      assert.equal(r.code, 6, r.stdout + r.stderr);
      assert.match(errorOf(r).code, /^ST00[12]$/);
      await assert.rejects(lstat(join(dir, 'aionctl.lock')), 'no lockfile');
      await assert.rejects(lstat(join(dir, '.aionctl', 'packages')), 'no packages');
      const store = await readdir(join(env.AIONCTL_HOME, 'data', 'store', 'blobs', 'sha256')).catch(() => []);
      assert.equal(store.length, 0, 'nothing entered the store (verification comes first)');
      const q = parseJson<{ digest: string }[]>(await runCli(['quarantine', 'ls', '--json'], { env }));
      assert.deepEqual(
        q.map((x) => x.digest),
        [digests.get(`${name}@1.0.0`)],
      );
    }
  });

  it('--frozen refuses a missing or stale lockfile (LC005); CI makes it the default', async () => {
    const { dir, env, cli } = await project({ base: '^1.0.0' });
    assert.equal(errorOf(await cli(['install', '--frozen', '--json'])).code, 'LC005');
    assert.equal(errorOf(await runCli(['install', '--json'], { cwd: dir, env: { ...env, CI: 'true' } })).code, 'LC005');
    assert.equal((await cli(['install', '--json'])).code, 0);
    await writeFile(
      join(dir, '.aionctl.yaml'),
      (await readFile(join(dir, '.aionctl.yaml'), 'utf8')).replace('base: "^1.0.0"', 'base: "^2.0.0"'),
    );
    assert.equal(errorOf(await cli(['install', '--frozen', '--json'])).code, 'LC005');
  });

  it('--offline installs from the store alone and names what is missing (NE020)', async () => {
    const { dir, cli } = await project({ tool: '^1.0.0' });
    const missing = await cli(['install', '--offline', '--json']);
    assert.equal(errorOf(missing).code, 'NE020');
    assert.match(errorOf(missing).message, /tool/);
    assert.equal((await cli(['install', '--json'])).code, 0);
    await rm(join(dir, '.aionctl'), { recursive: true, force: true });
    const r = await cli(['install', '--offline', '--frozen', '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.ok((await stat(join(dir, '.aionctl', 'packages', 'tool', 'module.wasm'))).size > 8);
  });

  it('uninstall drops a package and its now-unused dependencies; gc then frees their blobs', async () => {
    const { dir, env, cli } = await project({ app: '^1.0.0', tool: '^1.0.0' });
    assert.equal((await cli(['install', '--json'])).code, 0);
    assert.deepEqual(parseJson<{ blobs: unknown[] }>(await cli(['gc', '--dry-run', '--json'])).blobs, []);
    const u = await cli(['uninstall', 'app', '--json']);
    assert.equal(u.code, 0, u.stdout + u.stderr);
    assert.deepEqual(
      parseJson<InstallJson>(u).packages.map((p) => p.name),
      ['tool'],
    );
    assert.deepEqual(await readdir(join(dir, '.aionctl', 'packages')), ['.installed.json', 'tool']);
    assert.doesNotMatch(await readFile(join(dir, '.aionctl.yaml'), 'utf8'), /app:/);
    // the store keeps tags for app & co, so they are not garbage; a blob nothing references is
    const stray = join(env.AIONCTL_HOME, 'data', 'store', 'blobs', 'sha256', 'a'.repeat(64));
    await writeFile(stray, 'stray');
    const dry = parseJson<{ blobs: { digest: string }[]; dryRun: boolean }>(await cli(['gc', '--dry-run', '--json']));
    assert.equal(dry.dryRun, true);
    assert.deepEqual(
      dry.blobs.map((b) => b.digest),
      [`sha256:${'a'.repeat(64)}`],
    );
    await stat(stray);
    const done = parseJson<{ blobs: unknown[] }>(await cli(['gc', '--json']));
    assert.equal(done.blobs.length, 1);
    await assert.rejects(stat(stray));
    // everything locked is still whole: an offline reinstall from the store works
    await rm(join(dir, '.aionctl'), { recursive: true, force: true });
    const again = await cli(['install', '--offline', '--frozen', '--json']);
    assert.equal(again.code, 0, again.stdout + again.stderr);
  });

  it('update moves within ranges; outdated shows wanted and latest', async () => {
    const { dir, cli } = await project({ base: '~1.1.0' });
    assert.equal((await cli(['install', 'base@1.1.0', '--json'])).code, 0);
    await writeFile(
      join(dir, '.aionctl.yaml'),
      (await readFile(join(dir, '.aionctl.yaml'), 'utf8')).replace(/base: "?1\.1\.0"?/, 'base: ~1.1.0'),
    );
    const locked = parseJson<InstallJson>(await cli(['install', '--json']));
    assert.equal(locked.packages[0]!.version, '1.1.0', 'the locked version stays while it satisfies');
    const out = parseJson<{ name: string; current: string; wanted: string; latest: string }[]>(
      await cli(['outdated', '--json']),
    );
    assert.deepEqual(out, [
      {
        name: 'base',
        current: '1.1.0',
        wanted: '1.1.5',
        latest: '2.0.0',
        requested: ['~1.1.0'],
        repository: `oci:${folder}/base`,
      },
    ]);
    const up = parseJson<InstallJson>(await cli(['update', '--json']));
    assert.equal(up.packages[0]!.version, '1.1.5');
  });
});
