/**
 * The daemon's registry endpoints against a real docker-registry with signed packages: POST /v1/resolve (the
 * install resolver, through the registry cache) and POST /v1/verify (signed, unsigned, untrusted key).
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startDaemon } from '../../src/daemon/index.js';
import type { DaemonServer } from '../../src/daemon/server.js';
import { resolvePaths } from '../../src/lib/config/index.js';
import { DaemonClient, daemonPaths } from '../../src/lib/daemon/index.js';
import type { AionError } from '../../src/lib/errors/index.js';
import { resolvePackages, type ResolvedPackage } from '../../src/lib/install/index.js';
import { parseJson, runCli } from '../helpers/cli.js';
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
import { tempHome } from './helpers.js';

interface ErrorBody {
  error: { code: string; message: string };
}

describe('daemon registry endpoints (real docker-registry, signed packages)', () => {
  let registry: TestRegistry;
  let home: Awaited<ReturnType<typeof tempHome>>;
  let keys: Keys;
  let digests: Map<string, string>;
  let server: DaemonServer;
  let client: DaemonClient;
  let env: Record<string, string>;
  let project: string;
  const wanted = ['app', 'left', 'right', 'base', 'cx', 'unsigned', 'rogue'];

  before(async () => {
    registry = await startRegistry();
    home = await tempHome('aionctl-daemon-reg-');
    keys = await makeKeys(join(home.path, 'keys'));
    digests = await seedUniverse(
      join(home.path, 'work'),
      keys,
      [registryDestination(registry.host)],
      UNIVERSE.filter((p) => wanted.includes(p.name)),
    );
    project = join(home.path, 'project');
    await writeProject(project, {
      registry: `${registry.host}/agents`,
      trustMatch: [`${registry.host}/agents/*`],
      trustedPub: keys.trustedPub,
      packages: { base: '~1.1.0' },
    });
    env = { AIONCTL_HOME: join(home.path, 'home'), PATH: process.env.PATH ?? '', CI: '' };
    await mkdir(env.AIONCTL_HOME!, { recursive: true });
    server = await startDaemon({ env, cwd: home.path });
    client = new DaemonClient(daemonPaths(env).socket);
  });

  after(async () => {
    await client?.close();
    await server?.stop('test');
    await registry?.stop();
    await home?.cleanup();
  });

  it('POST /v1/resolve answers the install resolution (semver over tags, dependencies, digests)', async () => {
    const answer = await client.request<{ packages: ResolvedPackage[] }>('POST', '/v1/resolve', {
      packages: ['app@^1.0.0'],
      cwd: project,
    });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const picked = answer.body.packages.map((p) => `${p.name}@${p.version}`);
    // the diamond: left wants base ^1.1.0, right ~1.1.0, the project ~1.1.0 → 1.1.5; dependencies first
    assert.deepEqual(new Set(picked), new Set(['app@1.0.0', 'left@1.0.0', 'right@1.0.0', 'base@1.1.5']));
    assert.equal(picked.at(-1), 'app@1.0.0');
    assert.ok(picked.indexOf('base@1.1.5') < picked.indexOf('left@1.0.0'));
    for (const p of answer.body.packages) {
      assert.equal(p.digest, digests.get(`${p.name}@${p.version}`), p.name);
      assert.equal(p.repository, `${registry.host}/agents/${p.name}`);
    }
    // The same library function in-process gives the same answer.
    const direct = await resolvePackages({ cwd: project, env, paths: resolvePaths(env), specs: ['app@^1.0.0'] });
    assert.deepEqual(answer.body.packages, JSON.parse(JSON.stringify(direct.packages)));
    // Only what the project declares: no specs.
    const declared = await client.request<{ packages: ResolvedPackage[] }>('POST', '/v1/resolve', { cwd: project });
    assert.deepEqual(
      declared.body.packages.map((p) => `${p.name}@${p.version}`),
      ['base@1.1.5'],
    );
  });

  it('a repeat resolve is served from the registry cache (tag lists, tags, manifests, configs); metrics show it', async () => {
    const stat = async (name: string) => (await client.status()).caches.find((c) => c.name === name)!;
    const before = {
      lists: await stat('registry-tag-lists'),
      manifests: await stat('registry-manifests'),
      blobs: await stat('registry-blobs'),
    };
    const again = await client.request<{ packages: ResolvedPackage[] }>('POST', '/v1/resolve', {
      packages: ['app@^1.0.0'],
      cwd: project,
    });
    assert.equal(again.status, 200);
    const lists = await stat('registry-tag-lists');
    const manifests = await stat('registry-manifests');
    assert.ok(lists.hits >= before.lists.hits + 4, JSON.stringify(lists));
    assert.equal(lists.misses, before.lists.misses, 'no tag list was fetched again');
    assert.ok(manifests.hits >= before.manifests.hits + 4, JSON.stringify(manifests));
    assert.ok(manifests.bytes > 0 && manifests.bytes <= manifests.maxBytes);
    const blobs = await stat('registry-blobs'); // the package configs (dependencies) by digest
    assert.ok(blobs.hits >= before.blobs.hits + 4, JSON.stringify(blobs));
    assert.equal(blobs.misses, before.blobs.misses);
    const metrics = (await client.request<string>('GET', '/metrics')).body;
    const hits = /aionctl_daemon_cache_hits\{cache="registry-tag-lists"\} (\d+)/.exec(metrics);
    assert.ok(hits && Number(hits[1]) >= 4, metrics);
    assert.match(metrics, /aionctl_daemon_cache_misses\{cache="registry-manifests"\} \d+/);
    // A newly published version is seen once the project file changes (the watcher drops tag answers).
    await publish(join(home.path, 'work'), { name: 'base', version: '1.1.9' }, keys, [
      registryDestination(registry.host),
    ]);
    const projectFile = join(project, '.aionctl.yaml');
    const text = await readFile(projectFile, 'utf8');
    await writeFile(projectFile, `${text}\n`);
    const deadline = Date.now() + 5000;
    let seen: string | undefined;
    while (Date.now() < deadline) {
      const r = await client.request<{ packages: ResolvedPackage[] }>('POST', '/v1/resolve', { cwd: project });
      seen = r.body.packages.find((p) => p.name === 'base')?.version;
      if (seen === '1.1.9') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(seen, '1.1.9');
  });

  it('docker-registry sends no ETag on tags/list (so tag lists use a TTL, not If-None-Match)', async () => {
    // If this starts failing, the registry now sends ETags: teach RegistryCache to revalidate tag lists with them.
    const list = await fetch(`http://${registry.host}/v2/agents/app/tags/list`);
    assert.equal(list.status, 200);
    await list.arrayBuffer();
    assert.equal(list.headers.get('etag'), null);
    const manifest = await fetch(`http://${registry.host}/v2/agents/app/manifests/1.0.0`, {
      headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
    });
    await manifest.arrayBuffer();
    assert.equal(manifest.headers.get('etag'), `"${digests.get('app@1.0.0')}"`);
  });

  it('resolve errors carry the CLI codes (a conflict, an unknown package, a malformed body)', async () => {
    const conflict = await client.request<ErrorBody>('POST', '/v1/resolve', {
      packages: ['app@^1.0.0', 'cx@^1.0.0'],
      cwd: project,
    });
    await assert.rejects(
      resolvePackages({ cwd: project, env, paths: resolvePaths(env), specs: ['app@^1.0.0', 'cx@^1.0.0'] }),
      (err: AionError) => err.code === conflict.body.error.code && err.message === conflict.body.error.message,
    );
    const cli = await runCli(['install', 'app@^1.0.0', 'cx@^1.0.0', '--json'], { cwd: project, env });
    assert.equal(String(cli.code), conflict.headers['x-aionctl-exit']);
    assert.equal(parseJson<ErrorBody>(cli).error.code, conflict.body.error.code);
    const missing = await client.request<ErrorBody>('POST', '/v1/resolve', { packages: ['nosuch'], cwd: project });
    assert.equal(missing.body.error.code, 'LC001');
    const bad = await client.request<ErrorBody>('POST', '/v1/resolve', { packages: 'app', cwd: project });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'EX043');
  });

  it('POST /v1/verify: a signed package verifies (then from the cache); unsigned and untrusted are refused as the CLI refuses', async () => {
    const pem = await readFile(keys.trustedPub, 'utf8');
    const ref = `${registry.host}/agents/app:1.0.0`;
    const first = await client.request<{ digest: string; cached: boolean; verified: unknown[] }>('POST', '/v1/verify', {
      ref,
      keys: [pem],
    });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(first.body.digest, digests.get('app@1.0.0'));
    assert.equal(first.body.cached, false);
    assert.ok(first.body.verified.length >= 1);
    const second = await client.request<{ cached: boolean }>('POST', '/v1/verify', { ref, keys: [pem] });
    assert.equal(second.body.cached, true);
    assert.match((await client.request<string>('GET', '/metrics')).body, /verification_cache_hits_total [1-9]/);

    for (const name of ['unsigned', 'rogue']) {
      const r = `${registry.host}/agents/${name}:1.0.0`;
      const viaDaemon = await client.request<ErrorBody>('POST', '/v1/verify', { ref: r, keys: [pem] });
      assert.equal(viaDaemon.status, 403, JSON.stringify(viaDaemon.body));
      const cli = await runCli(['verify', r, '--key', keys.trustedPub, '--json'], { cwd: project, env });
      assert.equal(String(cli.code), viaDaemon.headers['x-aionctl-exit'], name);
      assert.equal(parseJson<ErrorBody>(cli).error.code, viaDaemon.body.error.code, name);
    }
    // Without keys the trust policy in effect at cwd decides, as `aionctl verify REF` does.
    const policy = await client.request<{ digest: string; signer: string; rule: { match: string } }>(
      'POST',
      '/v1/verify',
      { ref, cwd: project },
    );
    assert.equal(policy.status, 200, JSON.stringify(policy.body));
    assert.equal(policy.body.digest, digests.get('app@1.0.0'));
    const cliPolicy = await runCli(['verify', ref, '--json'], { cwd: project, env });
    assert.equal(cliPolicy.code, 0, cliPolicy.stderr);
    const cliResult = parseJson<{ digest: string; signer: string; rule: { match: string } }>(cliPolicy);
    assert.deepEqual(
      [policy.body.digest, policy.body.signer, policy.body.rule.match],
      [cliResult.digest, cliResult.signer, cliResult.rule.match],
    );
    for (const name of ['unsigned', 'rogue']) {
      const r = `${registry.host}/agents/${name}:1.0.0`;
      const viaDaemon = await client.request<ErrorBody>('POST', '/v1/verify', { ref: r, cwd: project });
      const cli = await runCli(['verify', r, '--json'], { cwd: project, env });
      assert.notEqual(cli.code, 0);
      assert.equal(String(cli.code), viaDaemon.headers['x-aionctl-exit'], `policy ${name}`);
      assert.equal(parseJson<ErrorBody>(cli).error.code, viaDaemon.body.error.code, `policy ${name}`);
    }
    // Outside the project no rule matches the registry: refused with the policy's code, both ways.
    const outside = await client.request<ErrorBody>('POST', '/v1/verify', { ref, cwd: home.path });
    const cliOutside = await runCli(['verify', ref, '--json'], { cwd: home.path, env });
    assert.equal(parseJson<ErrorBody>(cliOutside).error.code, outside.body.error.code);
    assert.equal(String(cliOutside.code), outside.headers['x-aionctl-exit']);
  });
});
