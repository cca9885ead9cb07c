import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { AionError } from '../../src/lib/errors/index.js';
import { MEDIA_TYPES, parseReference, sha256 } from '../../src/lib/oci/index.js';
import type { RegistryReference } from '../../src/lib/oci/reference.js';
import { connectRegistry } from '../../src/lib/oci/registry/index.js';
import { parseJson, runCli, tempDir } from '../helpers/cli.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { startTokenServer, type TokenServer } from '../helpers/token-server.js';
import { writePackage } from '../oci-local/fixtures.js';

const ref = (s: string) => parseReference(s) as RegistryReference;

describe('bearer token auth: real docker-registry with distribution token auth and a test token service', () => {
  let tokens: TokenServer;
  let registry: TestRegistry;
  let root: string;
  let cleanup: () => Promise<void>;
  before(async () => {
    tokens = await startTokenServer({
      username: 'bot',
      password: 'b3arer-pw',
      anonymousPull: true,
      refreshToken: 'refresh-abc',
    });
    registry = await startRegistry({ extraConfig: tokens.registryConfig });
    ({ path: root, cleanup } = await tempDir('aionctl-bearer-'));
  });
  after(async () => {
    await registry?.stop();
    await tokens?.stop();
    await cleanup?.();
  });

  it(
    'answers the challenge with realm/service/scope, caches the token per scope, and pushes',
    {
      timeout: 30_000,
    },
    async () => {
      const target = connectRegistry(ref(`${registry.host}/team/agent`), {
        credential: { username: 'bot', password: 'b3arer-pw' },
        access: 'push',
      });
      try {
        const data = Buffer.from('bearer blob');
        const d = { mediaType: 'application/octet-stream', digest: sha256(data), size: data.length };
        await target.pushBlob(d, Readable.from([data]));
        await target.pushBlob({ mediaType: MEDIA_TYPES.empty, digest: sha256('{}'), size: 2 }, Buffer.from('{}'));
        const manifest = Buffer.from(
          JSON.stringify({
            schemaVersion: 2,
            mediaType: MEDIA_TYPES.imageManifest,
            artifactType: 'application/vnd.aionos.test.v1',
            config: { mediaType: MEDIA_TYPES.empty, digest: sha256('{}'), size: 2 },
            layers: [d],
          }),
        );
        const md = { mediaType: MEDIA_TYPES.imageManifest, digest: sha256(manifest), size: manifest.length };
        await target.pushManifest(md, manifest, 'v1');
        assert.equal((await target.resolve('v1')).digest, md.digest);
        // one token for repository:team/agent:pull,push served every request of the session
        const fetched = tokens.requests.filter((r) => r.authenticated);
        assert.equal(fetched.length, 1, JSON.stringify(tokens.requests));
        assert.deepEqual(fetched[0]?.scopes, ['repository:team/agent:pull,push']);
        assert.equal(fetched[0]?.service, tokens.service);
      } finally {
        await target.close();
      }
    },
  );

  it(
    'mounts across repositories with a token scoped to both (push here, pull there)',
    {
      timeout: 30_000,
    },
    async () => {
      const before = tokens.requests.length;
      const target = connectRegistry(ref(`${registry.host}/team/mounted`), {
        credential: { username: 'bot', password: 'b3arer-pw' },
        access: 'push',
        mountFrom: ['team/agent'],
      });
      try {
        const data = Buffer.from('bearer blob');
        const d = { mediaType: 'application/octet-stream', digest: sha256(data), size: data.length };
        // a stream that fails if it is ever read: a mount must not need the bytes
        const untouchable = new Readable({
          read() {
            this.destroy(new Error('the blob was read although it should have been mounted'));
          },
        });
        await target.pushBlob(d, untouchable);
        assert.equal(await target.exists(d), true);
        const scopes = tokens.requests.slice(before).map((r) => r.scopes);
        assert.ok(
          scopes.some(
            (s) => s.includes('repository:team/agent:pull') && s.includes('repository:team/mounted:pull,push'),
          ),
          JSON.stringify(scopes),
        );
      } finally {
        await target.close();
      }
    },
  );

  it('anonymous pull gets a pull token; anonymous push is refused with RG006/RG007', { timeout: 30_000 }, async () => {
    const reader = connectRegistry(ref(`${registry.host}/team/agent`), { anonymous: true });
    try {
      assert.ok((await reader.tags()).includes('v1'));
    } finally {
      await reader.close();
    }
    const writer = connectRegistry(ref(`${registry.host}/team/other`), { anonymous: true, access: 'push' });
    try {
      const data = Buffer.from('x');
      await assert.rejects(
        writer.pushBlob({ mediaType: 'application/octet-stream', digest: sha256(data), size: 1 }, data),
        (e: unknown) => ['RG006', 'RG007'].includes((e as AionError).code),
      );
    } finally {
      await writer.close();
    }
  });

  it('exchanges an identity token (OAuth2 refresh_token grant) for an access token', { timeout: 30_000 }, async () => {
    const before = tokens.requests.length;
    const target = connectRegistry(ref(`${registry.host}/team/agent`), {
      credential: { identityToken: 'refresh-abc' },
      access: 'push',
    });
    try {
      const data = Buffer.from('pushed with an identity token');
      await target.pushBlob({ mediaType: 'application/octet-stream', digest: sha256(data), size: data.length }, data);
      const mine = tokens.requests.slice(before);
      assert.equal(mine.length, 1);
      assert.equal(mine[0]?.authenticated, true);
      assert.deepEqual(mine[0]?.scopes, ['repository:team/agent:pull,push']);
    } finally {
      await target.close();
    }
    const bad = connectRegistry(ref(`${registry.host}/team/agent`), { credential: { identityToken: 'stale' } });
    try {
      await assert.rejects(bad.tags(), (e: unknown) => (e as AionError).code === 'RG006');
    } finally {
      await bad.close();
    }
  });

  it('wrong credentials are RG006 from the token service', { timeout: 30_000 }, async () => {
    const target = connectRegistry(ref(`${registry.host}/team/agent`), {
      credential: { username: 'bot', password: 'nope' },
    });
    try {
      await assert.rejects(target.tags(), (e: unknown) => {
        assert.equal((e as AionError).code, 'RG006');
        assert.ok(!(e as AionError).message.includes('nope'));
        return true;
      });
    } finally {
      await target.close();
    }
  });

  it('login, push and pull through the CLI with a bearer registry', { timeout: 60_000 }, async () => {
    const env = { AIONCTL_HOME: join(root, 'home'), DOCKER_CONFIG: join(root, 'docker') };
    const login = await runCli(['login', registry.host, '-u', 'bot', '--password-stdin'], { env, input: 'b3arer-pw' });
    assert.equal(login.code, 0, login.stderr);
    const pkg = await writePackage(join(root, 'pkg'));
    const push = await runCli(['push', pkg, `${registry.host}/team/cli:1.3.0`, '--json'], { env });
    assert.equal(push.code, 0, push.stderr);
    const pull = await runCli(
      ['pull', '--insecure-skip-verify', `${registry.host}/team/cli:1.3.0`, '--json', '-o', join(root, 'out')],
      {
        env: { ...env, AIONCTL_HOME: join(root, 'home2') },
      },
    );
    assert.equal(pull.code, 0, pull.stderr);
    assert.equal(parseJson<{ digest: string }>(pull).digest, parseJson<{ digest: string }>(push).digest);
    const badLogin = await runCli(['login', registry.host, '-u', 'bot', '--password-stdin'], { env, input: 'bad' });
    assert.equal(badLogin.code, 4);
    assert.match(badLogin.stderr, /RG006/);
  });
});
