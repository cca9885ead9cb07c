import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AionError } from '../../src/lib/errors/index.js';
import type { RegistryReference } from '../../src/lib/oci/reference.js';
import { connectRegistry } from '../../src/lib/oci/registry/index.js';
import { runCli, tempDir } from '../helpers/cli.js';

describe('TLS: verification on by default, --insecure skips it (real TLS server, self-signed cert)', () => {
  let server: Server;
  let host: string;
  let cleanup: () => Promise<void>;
  let root: string;
  before(async () => {
    ({ path: root, cleanup } = await tempDir('aionctl-tls-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        join(root, 'k.pem'),
        '-out',
        join(root, 'c.pem'),
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
      ],
      { stdio: 'pipe' },
    );
    server = createServer(
      { key: await readFile(join(root, 'k.pem')), cert: await readFile(join(root, 'c.pem')) },
      (req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ name: 'x', tags: req.url?.includes('/tags/list') ? ['1.0.0'] : [] }));
      },
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server?.closeAllConnections();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    await cleanup?.();
  });

  const ref = (): RegistryReference => ({ kind: 'registry', registry: host, repository: 'x', plainHttp: false });

  it('refuses an untrusted certificate with NE002 and a hint', async () => {
    const target = connectRegistry(ref(), { anonymous: true, maxRetries: 0 });
    try {
      await assert.rejects(target.tags(), (e: unknown) => {
        assert.equal((e as AionError).code, 'NE002');
        assert.match((e as AionError).hint ?? '', /--insecure/);
        return true;
      });
    } finally {
      await target.close();
    }
  });

  it('--insecure talks TLS without verification', async () => {
    const target = connectRegistry(ref(), { anonymous: true, insecure: true });
    try {
      assert.deepEqual(await target.tags(), ['1.0.0']);
    } finally {
      await target.close();
    }
  });

  it(
    'speaking HTTP to the TLS port (--plain-http by mistake) fails clearly, and --insecure warns loudly',
    {
      timeout: 30_000,
    },
    async () => {
      const r = await runCli(['tags', `${host}/x`, '--insecure'], {
        env: { AIONCTL_HOME: join(root, 'h'), AIONCTL_REGISTRY_RETRIES: '0' },
      });
      assert.match(r.stderr, /warning: TLS certificate verification is OFF/);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /(NE001|RG015|NE002)/);
    },
  );
});
