import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cosignArgv, wantsJsonOutput } from '../../src/lib/cli/index.js';
import { type CliResult, parseJson, runCli, tempDir } from '../helpers/cli.js';
import { writePackage } from '../oci-local/fixtures.js';

const PASSWORD = 'correct horse';
let home: { path: string; cleanup: () => Promise<void> };
const cli = (args: string[]): Promise<CliResult> =>
  runCli(args, { cwd: home.path, env: { AIONCTL_HOME: join(home.path, 'home'), COSIGN_PASSWORD: PASSWORD } });

before(async () => {
  home = await tempDir('aionctl-cosignflags-');
  const key = await cli(['key', 'generate', '--output-prefix', join(home.path, 'k')]);
  assert.equal(key.code, 0, key.stderr);
  const dir = await writePackage(join(home.path, 'pkg'), { name: 'cosign_habits', version: '1.0.0' });
  const packed = await cli(['pack', dir]);
  assert.equal(packed.code, 0, packed.stderr);
});
after(async () => home.cleanup());

describe('cosign habits on sign / verify', { timeout: 400_000 }, () => {
  it('argv rewriting and -o json detection (pure)', () => {
    assert.deepEqual(cosignArgv(['--insecure-ignore-tlog=true', '--tlog-upload=false', '--yes=1', 'x']), [
      '--insecure-ignore-tlog',
      '--no-tlog-upload',
      '--yes',
      'x',
    ]);
    assert.deepEqual(cosignArgv(['--', '--yes=true']), ['--', '--yes=true'], 'nothing after -- is touched');
    assert.deepEqual(cosignArgv(['--identity=a=true']), ['--identity=a=true']);
    for (const argv of [['-o', 'json'], ['-ojson'], ['-o=json'], ['--output', 'json'], ['--output=json']])
      assert.ok(wantsJsonOutput(['ref', ...argv]), argv.join(' '));
    assert.ok(!wantsJsonOutput(['-o', 'text']));
    assert.ok(!wantsJsonOutput(['--', '-o', 'json']));
  });

  it('sign accepts -y, --yes, --tlog-upload=false and -o json', async () => {
    const r = await cli([
      'sign',
      'cosign_habits:1.0.0',
      '--key',
      join(home.path, 'k.key'),
      '-y',
      '--tlog-upload=false',
      '-o',
      'json',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const json = parseJson<{ digest: string; signatures: number }>(r);
    assert.match(json.digest, /^sha256:[0-9a-f]{64}$/);
    assert.equal(json.signatures, 1);
    const again = await cli([
      'sign',
      'cosign_habits:1.0.0',
      '--key',
      join(home.path, 'k.key'),
      '--yes',
      '--output=json',
    ]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(parseJson<{ added: boolean }>(again).added, false);
  });

  it('sign refuses --tlog-upload=true with ST006 (there is no log)', async () => {
    for (const flag of ['--tlog-upload=true', '--tlog-upload']) {
      const r = await cli(['sign', 'cosign_habits:1.0.0', '--key', join(home.path, 'k.key'), flag, '--json']);
      assert.equal(r.code, 6, r.stdout + r.stderr);
      const err = parseJson<{ error: { code: string; message: string } }>(r).error;
      assert.equal(err.code, 'ST006');
      assert.match(err.message, /transparency log/);
    }
  });

  it('verify accepts --insecure-ignore-tlog(=true) and --output json (the payload array)', async () => {
    const pub = join(home.path, 'k.pub');
    for (const args of [
      ['--insecure-ignore-tlog', '-o', 'json'],
      ['--insecure-ignore-tlog=true', '--output', 'json'],
    ]) {
      const r = await cli(['verify', 'cosign_habits:1.0.0', '--key', pub, ...args]);
      assert.equal(r.code, 0, r.stderr);
      const payloads = parseJson<{ critical: { image: { 'docker-manifest-digest': string } } }[]>(r);
      assert.equal(payloads.length, 1);
      assert.match(payloads[0]!.critical.image['docker-manifest-digest'], /^sha256:/);
      assert.doesNotMatch(r.stderr, /Verification for/, 'JSON mode keeps stderr free of the human report');
    }
  });
});
