import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BIN, parseJson, runCli, tempDir } from '../helpers/cli.js';
import {
  type Keys,
  makeKeys,
  publish,
  registryDestination,
  seedUniverse,
  UNIVERSE,
  writeProject,
} from '../helpers/packages.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

interface InstallJson {
  fromLockfile: boolean;
  lockfileChanged: boolean;
  packages: { name: string; version: string; digest: string; fetched: boolean }[];
}

/** Every file under DIR (following the packages symlink): relative path -> bytes (hex sha would do; bytes are small). */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string) => {
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory() || e.isSymbolicLink()) await walk(p);
      else out[relative(dir, p)] = (await readFile(p)).toString('base64');
    }
  };
  await walk(dir);
  return out;
}

describe('install from a real registry', () => {
  let registry: TestRegistry;
  let root: string;
  let cleanup: () => Promise<void>;
  let keys: Keys;
  let digests: Map<string, string>;
  let n = 0;
  const wanted = ['app', 'left', 'right', 'base', 'tool'];

  before(async () => {
    registry = await startRegistry();
    ({ path: root, cleanup } = await tempDir('aionctl-install-reg-'));
    keys = await makeKeys(join(root, 'keys'));
    digests = await seedUniverse(
      join(root, 'work'),
      keys,
      [registryDestination(registry.host)],
      UNIVERSE.filter((p) => wanted.includes(p.name)),
    );
  });
  after(async () => {
    await registry.stop();
    await cleanup();
  });

  async function project(packages: Record<string, string>) {
    const dir = join(root, `p${++n}`);
    await writeProject(dir, {
      registry: `${registry.host}/agents`,
      trustMatch: [`${registry.host}/agents/*`],
      trustedPub: keys.trustedPub,
      packages,
    });
    const env = { AIONCTL_HOME: join(dir, 'home'), CI: '' };
    const cli = (args: string[]) => runCli(args, { cwd: dir, env });
    return { dir, env, cli };
  }

  it('lockfile round trip: install, delete store and packages, install --frozen gives the same digests and bytes', async () => {
    const { dir, env, cli } = await project({ app: '^1.0.0', tool: '^1.0.0' });
    const first = await cli(['install', '--json']);
    assert.equal(first.code, 0, first.stdout + first.stderr);
    const r1 = parseJson<InstallJson>(first);
    assert.ok(r1.packages.every((p) => p.fetched && p.digest === digests.get(`${p.name}@${p.version}`)));
    const lock = await readFile(join(dir, 'aionctl.lock'), 'utf8');
    const files = await snapshot(join(dir, '.aionctl', 'packages'));
    assert.ok(Object.keys(files).includes('base/module.wasm'));
    await rm(join(env.AIONCTL_HOME, 'data', 'store'), { recursive: true });
    await rm(join(dir, '.aionctl'), { recursive: true });
    const again = await cli(['install', '--frozen', '--json']);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    const r2 = parseJson<InstallJson>(again);
    assert.equal(r2.fromLockfile, true);
    assert.ok(r2.packages.every((p) => p.fetched));
    assert.deepEqual(
      r2.packages.map((p) => p.digest),
      r1.packages.map((p) => p.digest),
    );
    assert.equal(await readFile(join(dir, 'aionctl.lock'), 'utf8'), lock);
    assert.deepEqual(await snapshot(join(dir, '.aionctl', 'packages')), files);
  });

  it('a moved tag is ignored under the lockfile (the locked digest is installed)', async () => {
    const { dir, env, cli } = await project({ base: '~1.1.0' });
    assert.equal((await cli(['install', '--json'])).code, 0);
    const locked = digests.get('base@1.1.5')!;
    // republish 1.1.5 with other bytes (signed, so only the lockfile can tell)
    const moved = await publish(join(root, 'work'), { name: 'base', version: '1.1.5', salt: '-moved' }, keys, [
      registryDestination(registry.host),
    ]);
    assert.notEqual(moved, locked);
    await rm(join(env.AIONCTL_HOME, 'data', 'store'), { recursive: true });
    await rm(join(dir, '.aionctl'), { recursive: true });
    const r = parseJson<InstallJson>(await cli(['install', '--json']));
    assert.equal(r.fromLockfile, true);
    assert.equal(r.packages[0]!.digest, locked);
    assert.doesNotMatch(
      await readFile(join(dir, '.aionctl', 'packages', 'base', 'schemas', 'output.json'), 'utf8'),
      /moved/,
    );
    // put the tag back for the other tests
    await publish(join(root, 'work'), { name: 'base', version: '1.1.5' }, keys, [registryDestination(registry.host)]);
  });

  it('kill -9 at any point leaves the previous lockfile and packages intact; the next install completes', async () => {
    const { dir, env, cli } = await project({ base: '^1.0.0' });
    assert.equal((await cli(['install', '--json'])).code, 0);
    const lock = await readFile(join(dir, 'aionctl.lock'), 'utf8');
    const files = await snapshot(join(dir, '.aionctl', 'packages'));
    const yaml = await readFile(join(dir, '.aionctl.yaml'), 'utf8');
    await writeFile(
      join(dir, '.aionctl.yaml'),
      yaml.replace('packages:\n', 'packages:\n  app: "^1.0.0"\n  tool: "^1.0.0"\n'),
    );
    for (const delay of [300, 700, 1200]) {
      // a cold store each time, so the kill lands while fetching
      await rm(join(env.AIONCTL_HOME, 'data', 'store'), { recursive: true, force: true });
      const child = spawn(process.execPath, [BIN, 'install', '--json'], {
        cwd: dir,
        env: { ...process.env, ...env, NO_COLOR: '1' },
        stdio: 'ignore',
      });
      await new Promise((r) => setTimeout(r, delay));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      assert.equal(
        await readFile(join(dir, 'aionctl.lock'), 'utf8'),
        lock,
        `lockfile intact after kill at ${delay} ms`,
      );
      assert.deepEqual(
        await snapshot(join(dir, '.aionctl', 'packages')),
        files,
        `packages intact after kill at ${delay} ms`,
      );
    }
    const done = await cli(['install', '--json']);
    assert.equal(done.code, 0, done.stdout + done.stderr);
    assert.deepEqual(
      parseJson<InstallJson>(done)
        .packages.map((p) => p.name)
        .sort(),
      ['app', 'base', 'left', 'right', 'tool'],
    );
    assert.deepEqual((await readdir(join(dir, '.aionctl', 'generations'))).length, 1, 'half-built generations removed');
  });

  it('--modules installs every module of a modules.yml at its reference', async () => {
    const { dir, cli } = await project({});
    await writeFile(
      join(dir, 'modules.yml'),
      `modules:\n  - name: tool\n    ref: "${registry.host}/agents/tool:1.0.0"\n    runtime: wasm\n  - name: base\n    ref: "${registry.host}/agents/base:1.2.0"\n`,
    );
    const r = await cli(['install', '--modules', 'modules.yml', '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(
      parseJson<InstallJson>(r)
        .packages.map((p) => `${p.name}@${p.version}`)
        .sort(),
      ['base@1.2.0', 'tool@1.0.0'],
    );
    assert.match(
      await readFile(join(dir, '.aionctl.yaml'), 'utf8'),
      new RegExp(`tool: ${registry.host}/agents/tool@1\\.0\\.0`),
    );
  });
});
