/** Issue 9 command-level fixes through the real CLI (flags before positionals, exit codes, -q, help text). */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseJson, REPO_ROOT, runCli, tempDir } from '../helpers/cli.js';
import { writePackage } from '../oci-local/fixtures.js';

interface Digested {
  digest: string;
  ref: string;
}
const errorCode = (stdout: string): string => (JSON.parse(stdout) as { error: { code: string } }).error.code;

describe('issue 9: flags then positionals, exit codes, quiet, help', () => {
  let root: string;
  let cleanup: () => Promise<void>;
  let env: Record<string, string>;
  let pkg: string;
  before(async () => {
    ({ path: root, cleanup } = await tempDir('aionctl-fixes-'));
    env = { AIONCTL_HOME: join(root, 'home'), COSIGN_PASSWORD: '', SOURCE_DATE_EPOCH: '' };
    pkg = await writePackage(join(root, 'pkg'));
  });
  after(async () => cleanup?.());

  it('pack -a k=v DIR packs DIR (the flag takes one value), and push DIR equals pack DIR under SOURCE_DATE_EPOCH', async () => {
    const epochEnv = { ...env, SOURCE_DATE_EPOCH: '1700000000' };
    // run from an empty directory: a greedy -a would swallow DIR and pack the working directory instead
    const packed = await runCli(
      ['pack', '-a', 'k=v', '-a', 'x=y', pkg, '--output', `oci:${join(root, 'l1')}:1`, '--json'],
      {
        env: epochEnv,
        cwd: root,
      },
    );
    assert.equal(packed.code, 0, packed.stderr);
    const manifest = JSON.parse(
      (await runCli(['manifest', `oci:${join(root, 'l1')}:1`], { env: epochEnv })).stdout,
    ) as { annotations: Record<string, string> };
    assert.equal(manifest.annotations.k, 'v');
    assert.equal(manifest.annotations.x, 'y');
    assert.equal(manifest.annotations['org.opencontainers.image.created'], '2023-11-14T22:13:20Z');

    const plain = parseJson<Digested>(await runCli(['pack', pkg, '--json'], { env: epochEnv }));
    const pushed = parseJson<Digested>(
      await runCli(['push', pkg, `oci:${join(root, 'l2')}:1`, '--json'], {
        env: { ...epochEnv, AIONCTL_HOME: join(root, 'h2') },
      }),
    );
    assert.equal(pushed.digest, plain.digest, 'push DIR and pack DIR give the same digest');
  });

  it('sign/verify: --key K1 --key K2 REF works (repeatable flags before the reference)', async () => {
    const layout = join(root, 'signed');
    assert.equal((await runCli(['pack', pkg, '--output', `oci:${layout}:1.0`], { env })).code, 0);
    for (const k of ['k1', 'k2']) {
      const r = await runCli(['key', 'generate', '--output-prefix', join(root, k)], { env });
      assert.equal(r.code, 0, r.stderr);
    }
    const signed = await runCli(['sign', '-a', 'team=core', '--key', join(root, 'k1.key'), `oci:${layout}:1.0`], {
      env,
    });
    assert.equal(signed.code, 0, signed.stderr);
    const verified = await runCli(
      ['verify', '--key', join(root, 'k2.pub'), '--key', join(root, 'k1.pub'), '-a', 'team=core', `oci:${layout}:1.0`],
      { env },
    );
    assert.equal(verified.code, 0, verified.stderr);
    // ST004 tells how to fix a name mismatch
    const other = await runCli(
      ['verify', '--key', join(root, 'k1.pub'), '--identity', 'some/other', `oci:${layout}:1.0`],
      {
        env,
      },
    );
    assert.equal(other.code, 6);
    assert.match(other.stderr, /ST004/);
    assert.match(other.stderr, /hint: .*--identity/);
  });

  it('tags and sign fail clearly on a missing layout or store name; a missing tag is a usage error', async () => {
    const missingLayout = await runCli(['tags', `oci:${join(root, 'missing')}`, '--json'], { env });
    assert.equal(missingLayout.code, 4);
    assert.equal(errorCode(missingLayout.stdout), 'RG030');
    const unknownName = await runCli(['tags', 'no_such_package', '--json'], { env });
    assert.equal(unknownName.code, 4);
    assert.equal(errorCode(unknownName.stdout), 'RG031');
    await runCli(['key', 'generate', '--output-prefix', join(root, 'k3')], { env });
    const sign = await runCli(['sign', '--key', join(root, 'k3.key'), `oci:${join(root, 'missing')}:1`], { env });
    assert.equal(sign.code, 4);
    assert.match(sign.stderr, /RG030: there is no OCI image layout at/);
    const noTag = await runCli(['pull', 'team/agent'], { env });
    assert.equal(noTag.code, 2);
    assert.match(noTag.stderr, /RG020/);
  });

  it('pull -o FILE is refused before downloading, with a hint about -o', async () => {
    const layout = join(root, 'src-layout');
    assert.equal((await runCli(['pack', pkg, '--output', `oci:${layout}:1.0`], { env })).code, 0);
    const file = join(root, 'a-file');
    await writeFile(file, 'keep me');
    const home = join(root, 'h-o');
    const r = await runCli(['pull', '--insecure-skip-verify', `oci:${layout}:1.0`, '-o', file], {
      env: { ...env, AIONCTL_HOME: home },
    });
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /FS010: .* exists and is not a directory/);
    assert.match(r.stderr, /hint: -o takes a directory/);
    assert.equal(await readFile(file, 'utf8'), 'keep me');
    const tags = await runCli(['tags', 'src-layout'], { env: { ...env, AIONCTL_HOME: home } });
    assert.notEqual(tags.code, 0, 'nothing was stored');
  });

  it('-q prints no progress or status lines', async () => {
    assert.equal((await runCli(['pack', pkg], { env })).code, 0);
    const copied = await runCli(['copy', '-q', 'summarize_text:1.3.0', `oci:${join(root, 'q')}:1`], { env });
    assert.equal(copied.code, 0, copied.stderr);
    assert.equal(copied.stderr, '');
    assert.match(copied.stdout, /^sha256:[a-f0-9]{64}\n$/);
  });

  it('help and package.json name install and run only now that both exist', async () => {
    const help = await runCli(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /\binstall\b/);
    assert.match(help.stdout, /\brun\b/);
    // Every command the description names is a real command.
    for (const name of ['install', 'run', 'stamp', 'validate', 'pack', 'push', 'pull', 'sign', 'verify'])
      assert.match(help.stdout, new RegExp(`^\\s+${name}\\s`, 'm'), `help lists ${name}`);
    const pkgJson = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as {
      description: string;
      scripts: { build: string };
    };
    assert.match(pkgJson.description, /\binstall, run$/);
    assert.match(pkgJson.scripts.build, /OCLIF_SKIP_NEW_VERSION_CHECK=true oclif manifest/);
  });
});
