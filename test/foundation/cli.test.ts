import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseJson, runCli, tempDir } from '../helpers/cli.js';

describe('aionctl CLI foundation', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  before(async () => {
    dir = await tempDir();
  });
  after(() => dir.cleanup());

  it('--version prints name/version/platform', async () => {
    const r = await runCli(['--version']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^aionctl\/\d+\.\d+\.\d+ /);
  });

  it('an unknown flag is a CI001 usage error with exit 2, as text and as --json', async () => {
    const text = await runCli(['config', '--no-such-flag']);
    assert.equal(text.code, 2);
    assert.match(text.stderr, /error CI001: Nonexistent flag: --no-such-flag/);
    assert.equal(text.stdout, '');
    const json = await runCli(['config', '--no-such-flag', '--json']);
    assert.equal(json.code, 2);
    assert.equal(parseJson<{ error: { code: string } }>(json).error.code, 'CI001');
  });

  it('a missing argument is one CI001 line naming the argument, with a --help hint', async () => {
    const r = await runCli(['pull']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^error CI001: Missing 1 required arg: ref: /);
    assert.match(r.stderr, /hint: see: aionctl pull --help/);
    assert.doesNotMatch(r.stderr, /See more help/);
  });

  it('AIONCTL_HOME puts every directory under one root', async () => {
    const r = await runCli(['config', '--json'], { env: { AIONCTL_HOME: dir.path } });
    assert.equal(r.code, 0, r.stderr);
    const out = parseJson<{ paths: Record<string, string> }>(r);
    for (const path of Object.values(out.paths)) assert.ok(path.startsWith(dir.path), path);
  });

  it('XDG variables are honoured when AIONCTL_HOME is unset', async () => {
    const env = {
      AIONCTL_HOME: undefined,
      XDG_CONFIG_HOME: join(dir.path, 'cfg'),
      XDG_CACHE_HOME: join(dir.path, 'cache'),
      XDG_DATA_HOME: join(dir.path, 'data'),
      XDG_RUNTIME_DIR: join(dir.path, 'run'),
    };
    const out = parseJson<{ paths: Record<string, string> }>(await runCli(['config', '--json'], { env }));
    assert.equal(out.paths.config, join(dir.path, 'cfg', 'aionctl'));
    assert.equal(out.paths.cache, join(dir.path, 'cache', 'aionctl'));
    assert.equal(out.paths.store, join(dir.path, 'data', 'aionctl', 'store'));
    assert.equal(out.paths.runtime, join(dir.path, 'run', 'aionctl'));
  });

  it('finds .aionctl.yaml by walking up and merges it over the user config', async () => {
    const project = join(dir.path, 'proj');
    await mkdir(join(project, 'a', 'b'), { recursive: true });
    await writeFile(join(project, '.aionctl.yaml'), 'stamp:\n  owner: Team Project\n  ignore: ["vendor/**"]\n');
    await mkdir(join(dir.path, 'home', 'config'), { recursive: true });
    await writeFile(join(dir.path, 'home', 'config', 'config.yaml'), 'stamp:\n  author: Ada\n  owner: User\n');
    const r = await runCli(['config', '--json'], {
      cwd: join(project, 'a', 'b'),
      env: { AIONCTL_HOME: join(dir.path, 'home') },
    });
    const out = parseJson<{ projectFile: string; config: { stamp: Record<string, unknown> } }>(r);
    assert.equal(out.projectFile, join(project, '.aionctl.yaml'));
    assert.deepEqual(out.config.stamp, { author: 'Ada', owner: 'Team Project', ignore: ['vendor/**'] });
  });

  it('a broken project file is CI004 pointing at the line', async () => {
    const project = join(dir.path, 'broken');
    await mkdir(project, { recursive: true });
    await writeFile(join(project, '.aionctl.yaml'), 'stamp:\n  owner: [unclosed\n');
    const r = await runCli(['config'], { cwd: project, env: { AIONCTL_HOME: join(dir.path, 'h2') } });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /error CI004: .*\.aionctl\.yaml:\d+:\d+: /);
  });
});
