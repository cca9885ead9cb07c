import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EMPTY_DESCRIPTOR, LayoutTarget, MEDIA_TYPES, parseReference, sha256 } from '../../src/lib/oci/index.js';
import type { RegistryReference } from '../../src/lib/oci/reference.js';
import { connectRegistry } from '../../src/lib/oci/registry/index.js';
import { parseJson, runCli, tempDir } from '../helpers/cli.js';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { writePackage } from '../oci-local/fixtures.js';

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

interface PushJson {
  ref: string;
  digest: string;
  size: number;
}
interface PullJson {
  ref: string;
  digest: string;
  store: string;
  files: { path: string; digest: string; size: number }[];
}

describe('push, pull, tags, manifest against the real docker-registry (no auth)', () => {
  let registry: TestRegistry;
  let root: string;
  let cleanup: () => Promise<void>;
  let env: Record<string, string>;
  let pkg: string;
  before(async () => {
    registry = await startRegistry();
    ({ path: root, cleanup } = await tempDir('aionctl-reg-cli-'));
    env = { AIONCTL_HOME: join(root, 'home'), DOCKER_CONFIG: join(root, 'docker') };
    pkg = await writePackage(join(root, 'pkg'));
  });
  after(async () => {
    await registry?.stop();
    await cleanup?.();
  });

  it(
    'pushes a package directory, pulls it back into a fresh store and extracts identical files',
    {
      timeout: 60_000,
    },
    async () => {
      const pushed = await runCli(['push', pkg, `${registry.host}/agents/summarize:1.3.0`, '--json'], { env });
      assert.equal(pushed.code, 0, pushed.stderr);
      const push = parseJson<PushJson>(pushed);
      assert.match(push.digest, /^sha256:[a-f0-9]{64}$/);
      assert.equal(push.ref, `${registry.host}/agents/summarize:1.3.0@${push.digest}`);
      assert.ok(push.size > 100);

      // the registry really holds it: raw manifest bytes hash to the digest
      const raw = await runCli(['manifest', `${registry.host}/agents/summarize:1.3.0`], { env });
      assert.equal(raw.code, 0, raw.stderr);
      assert.equal(sha(raw.stdout), push.digest);
      assert.equal(JSON.parse(raw.stdout).artifactType, 'application/vnd.aionos.agent.v1');

      const fresh = { ...env, AIONCTL_HOME: join(root, 'home2') };
      const out = join(root, 'out');
      const pulled = await runCli(
        ['pull', '--insecure-skip-verify', `${registry.host}/agents/summarize:1.3.0`, '-o', out, '--json'],
        {
          env: fresh,
        },
      );
      assert.equal(pulled.code, 0, pulled.stderr);
      const pull = parseJson<PullJson>(pulled);
      assert.equal(pull.digest, push.digest);
      // the store keeps the registry host (as docker images does): store:HOST/REPOSITORY:TAG
      assert.equal(pull.store, `store:${registry.host}/agents/summarize:1.3.0`);
      assert.deepEqual(pull.files.map((f) => f.path).sort(), [
        'aip.yaml',
        'bin/helper.sh',
        'module.wasm',
        'schemas/input.json',
        'schemas/output.json',
      ]);
      for (const file of pull.files) {
        const original = await readFile(join(pkg, file.path));
        const written = await readFile(join(out, file.path));
        assert.deepEqual(written, original, file.path);
        assert.equal(sha(written), file.digest);
      }
      assert.equal((await stat(join(out, 'bin/helper.sh'))).mode & 0o777, 0o755);

      // it is in the fresh store now: push from the store reference to another tag works offline from the source
      const again = await runCli(
        ['push', `store:${registry.host}/agents/summarize:1.3.0`, `${registry.host}/agents/copy:v2`, '--json'],
        {
          env: fresh,
        },
      );
      assert.equal(again.code, 0, again.stderr);
      assert.equal(parseJson<PushJson>(again).digest, push.digest);
    },
  );

  it(
    'push between repositories of one registry mounts the blobs instead of uploading them',
    {
      timeout: 60_000,
    },
    async () => {
      const proxy = await startFaultProxy(registry.host);
      try {
        const r = await runCli(
          ['push', `${proxy.host}/agents/summarize:1.3.0`, `${proxy.host}/agents/mounted:1.3.0`, '--json'],
          { env },
        );
        assert.equal(r.code, 0, r.stderr);
        const mounts = proxy.requests.filter((q) => q.method === 'POST' && q.url.includes('mount='));
        assert.ok(mounts.length >= 5, `expected a mount per blob, saw ${mounts.length}`);
        assert.ok(mounts.every((q) => q.url.includes('from=agents%2Fsummarize')));
        assert.ok(!proxy.requests.some((q) => q.method === 'PATCH'), 'no blob was uploaded');
        assert.ok(!proxy.requests.some((q) => q.method === 'PUT' && q.url.includes('/blobs/')), 'no blob was uploaded');
      } finally {
        await proxy.stop();
      }
    },
  );

  it('manifest --json and by digest; plain output is exactly the stored bytes', { timeout: 30_000 }, async () => {
    const byTag = parseJson<{ digest: string; mediaType: string }>(
      await runCli(['manifest', `${registry.host}/agents/summarize:1.3.0`, '--json'], { env }),
    );
    assert.equal(byTag.mediaType, 'application/vnd.oci.image.manifest.v1+json');
    const byDigest = await runCli(['manifest', `${registry.host}/agents/summarize@${byTag.digest}`], { env });
    assert.equal(byDigest.code, 0, byDigest.stderr);
    assert.equal(sha(byDigest.stdout), byTag.digest);
  });

  it('tags lists, sorts by semver and hides sha256-* tags', { timeout: 60_000 }, async () => {
    for (const tag of ['1.2.0', '1.10.0', '1.2.0+build.7', 'latest']) {
      const r = await runCli(
        ['push', `store:${registry.host}/agents/summarize:1.3.0`, `${registry.host}/agents/many:${tag}`],
        {
          env: { ...env, AIONCTL_HOME: join(root, 'home2') },
        },
      );
      assert.equal(r.code, 0, r.stderr);
    }
    const lexical = await runCli(['tags', `${registry.host}/agents/many`], { env });
    assert.equal(lexical.code, 0, lexical.stderr);
    assert.deepEqual(lexical.stdout.trim().split('\n'), ['1.10.0', '1.2.0', '1.2.0_build.7', 'latest']);
    const semver = parseJson<{ tags: string[] }>(
      await runCli(['tags', `${registry.host}/agents/many`, '--sort', 'semver', '--json'], { env }),
    );
    assert.deepEqual(semver.tags, ['1.10.0', '1.2.0', '1.2.0_build.7', 'latest']);
  });

  it('errors are clear and carry registry exit codes', { timeout: 30_000 }, async () => {
    const missing = await runCli(['pull', `${registry.host}/agents/summarize:9.9.9`], { env });
    assert.equal(missing.code, 4);
    assert.match(missing.stderr, /RG003.*manifest unknown/i);
    assert.match(missing.stderr, /hint: .*aionctl tags/);
    const noTag = await runCli(['pull', `${registry.host}/agents/summarize`], { env });
    assert.equal(noTag.code, 2); // a missing tag is a usage error
    assert.match(noTag.stderr, /RG020/);
    const notDir = await runCli(['push', './no-such-dir', `${registry.host}/a/b:1`], { env });
    assert.equal(notDir.code, 3);
    assert.match(notDir.stderr, /FS001: \.\/no-such-dir is not a package directory/);
    const bad = await runCli(['pull', `${registry.host}/Agents/X:1`], { env });
    assert.match(bad.stderr, /RG001.*"Agents"/);
    const refused = await runCli(['tags', '127.0.0.1:1/agents/x'], {
      env: { ...env, AIONCTL_REGISTRY_RETRIES: '0' },
    });
    assert.equal(refused.code, 5);
    assert.match(refused.stderr, /NE001: cannot reach 127\.0\.0\.1:1/);
  });

  it(
    "push carries referrers: a signature in the layout ends up in the registry's sha256-<hex> index",
    {
      timeout: 60_000,
    },
    async () => {
      const layoutPath = join(root, 'signed');
      const packed = parseJson<PushJson>(await runCli(['push', pkg, `oci:${layoutPath}:1.3.0`, '--json'], { env }));
      const layout = new LayoutTarget(layoutPath);
      const subject = await layout.resolve('1.3.0');
      const sigBlob = Buffer.from('{"fake":"bundle"}');
      const sigDesc = { mediaType: MEDIA_TYPES.sigstoreBundle, digest: sha256(sigBlob), size: sigBlob.length };
      await layout.pushBlob(sigDesc, sigBlob);
      await layout.pushBlob(EMPTY_DESCRIPTOR, Buffer.from('{}'));
      const sigManifest = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MEDIA_TYPES.imageManifest,
          artifactType: MEDIA_TYPES.sigstoreBundle,
          config: EMPTY_DESCRIPTOR,
          layers: [sigDesc],
          subject,
        }),
      );
      const sigManifestDesc = {
        mediaType: MEDIA_TYPES.imageManifest,
        digest: sha256(sigManifest),
        size: sigManifest.length,
      };
      await layout.pushManifest(sigManifestDesc, sigManifest);

      const r = await runCli(['push', `oci:${layoutPath}:1.3.0`, `${registry.host}/agents/signed:1.3.0`, '--json'], {
        env,
      });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(parseJson<PushJson>(r).digest, packed.digest);
      const remote = connectRegistry(parseReference(`${registry.host}/agents/signed`) as RegistryReference);
      try {
        const referrers = await remote.referrers(subject);
        assert.deepEqual(
          referrers.map((d) => d.digest),
          [sigManifestDesc.digest],
        );
        assert.equal(referrers[0]?.artifactType, MEDIA_TYPES.sigstoreBundle);
      } finally {
        await remote.close();
      }
      const tags = await runCli(['tags', `${registry.host}/agents/signed`], { env });
      assert.equal(tags.stdout.trim(), '1.3.0', 'the sha256-<hex> index tag is hidden');
      const all = await runCli(['tags', `${registry.host}/agents/signed`, '--all'], { env });
      assert.match(all.stdout, new RegExp(`^sha256-${subject.digest.slice(7)}$`, 'm'));
    },
  );

  it('push to an oci: layout and pull it back with -o (no server)', { timeout: 30_000 }, async () => {
    const layout = join(root, 'layout');
    const pushed = parseJson<PushJson>(await runCli(['push', pkg, `oci:${layout}:1.3.0`, '--json'], { env }));
    const pulled = await runCli(
      ['pull', '--insecure-skip-verify', `oci:${layout}:1.3.0`, '-o', join(root, 'out3'), '--json'],
      {
        env: { ...env, AIONCTL_HOME: join(root, 'home3') },
      },
    );
    assert.equal(pulled.code, 0, pulled.stderr);
    const pull = parseJson<PullJson>(pulled);
    assert.equal(pull.digest, pushed.digest);
    // the store name comes from the layout directory, never from an annotation the artifact sets
    assert.equal(pull.store, 'layout:1.3.0');
  });
});

describe('login, logout and basic auth against the real docker-registry (htpasswd)', () => {
  let registry: TestRegistry;
  let root: string;
  let cleanup: () => Promise<void>;
  let env: Record<string, string>;
  let pkg: string;
  before(async () => {
    registry = await startRegistry({ auth: { username: 'agent', password: 's3cret-pw' } });
    ({ path: root, cleanup } = await tempDir('aionctl-reg-auth-'));
    env = { AIONCTL_HOME: join(root, 'home'), DOCKER_CONFIG: join(root, 'docker'), HOME: join(root, 'nohome') };
    pkg = await writePackage(join(root, 'pkg'));
  });
  after(async () => {
    await registry?.stop();
    await cleanup?.();
  });

  it('refuses anonymous push with RG006 and a login hint', { timeout: 30_000 }, async () => {
    const r = await runCli(['push', pkg, `${registry.host}/agents/a:1`], { env });
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, /RG006/);
    assert.match(r.stderr, new RegExp(`aionctl login ${registry.host.replace('.', '\\.')}`));
  });

  it('login rejects a wrong password and stores nothing', { timeout: 30_000 }, async () => {
    const r = await runCli(['login', registry.host, '-u', 'agent', '--password-stdin'], { env, input: 'wrong\n' });
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, /RG006/);
    assert.ok(!r.stderr.includes('wrong'), 'the password must not be echoed');
    await assert.rejects(stat(join(root, 'docker', 'config.json')));
  });

  it(
    'login --password-stdin stores a 0600 docker config; push and pull then work; logout removes it',
    {
      timeout: 60_000,
    },
    async () => {
      const login = await runCli(['login', registry.host, '-u', 'agent', '--password-stdin'], {
        env,
        input: 's3cret-pw\n',
      });
      assert.equal(login.code, 0, login.stderr);
      assert.ok(!`${login.stdout}${login.stderr}`.includes('s3cret-pw'), 'never print the secret');
      const configPath = join(root, 'docker', 'config.json');
      assert.equal((await stat(configPath)).mode & 0o777, 0o600);
      const config = JSON.parse(await readFile(configPath, 'utf8'));
      assert.equal(config.auths[registry.host].auth, Buffer.from('agent:s3cret-pw').toString('base64'));

      const push = await runCli(['push', pkg, `${registry.host}/agents/a:1.3.0`, '--json'], { env });
      assert.equal(push.code, 0, push.stderr);
      const pull = await runCli(['pull', '--insecure-skip-verify', `${registry.host}/agents/a:1.3.0`, '--json'], {
        env: { ...env, AIONCTL_HOME: join(root, 'h2') },
      });
      assert.equal(pull.code, 0, pull.stderr);
      assert.equal(parseJson<PullJson>(pull).digest, parseJson<PushJson>(push).digest);
      const tags = await runCli(['tags', `${registry.host}/agents/a`], { env });
      assert.equal(tags.stdout.trim(), '1.3.0');

      const logout = parseJson<{ removed: boolean }>(await runCli(['logout', registry.host, '--json'], { env }));
      assert.equal(logout.removed, true);
      const after = await runCli(['tags', `${registry.host}/agents/a`], { env });
      assert.equal(after.code, 4);
      assert.match(after.stderr, /RG006/);
      const again = parseJson<{ removed: boolean }>(await runCli(['logout', registry.host, '--json'], { env }));
      assert.equal(again.removed, false);
    },
  );

  it('login without a password and without a TTY is a usage error', { timeout: 30_000 }, async () => {
    const r = await runCli(['login', registry.host, '-u', 'agent'], { env });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /CI003/);
  });
});
