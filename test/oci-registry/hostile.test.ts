import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { AionError } from '../../src/lib/errors/index.js';
import { type Descriptor, MEDIA_TYPES, parseReference, sha256 } from '../../src/lib/oci/index.js';
import type { RegistryReference } from '../../src/lib/oci/reference.js';
import { type ConnectOptions, connectRegistry } from '../../src/lib/oci/registry/index.js';
import { sanitizeForTerminal } from '../../src/lib/text/index.js';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import { startHostileServer, trickle } from '../helpers/hostile-server.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

function ref(s: string): RegistryReference {
  return parseReference(s) as RegistryReference;
}

const code = (expected: string) => (e: unknown) => {
  assert.ok(e instanceof AionError, `not an AionError: ${String(e)}`);
  assert.equal(e.code, expected, e.message);
  return true;
};

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

/** Small limits so hostile servers are cut off in test time; the defaults scale the same way. */
const FAST: ConnectOptions = {
  anonymous: true,
  maxRetries: 0,
  idleTimeoutMs: 2000,
  deadlineBaseMs: 3000,
  minBytesPerSecond: 1000,
};

describe('10.3: challenges come only from the registry that was asked', () => {
  let registry: TestRegistry;
  before(async () => {
    registry = await startRegistry({ auth: { username: 'alice', password: 's3cret' } });
  });
  after(async () => {
    await registry?.stop();
  });

  it('a redirect target answering 401 Bearer never gets the registry credentials', { timeout: 60_000 }, async () => {
    const thief = await startHostileServer((req, res, self) => {
      if (req.url?.startsWith('/steal')) return json(res, 200, { token: 'stolen' });
      res.writeHead(401, { 'www-authenticate': `Bearer realm="${self.origin}/steal",service="b"` });
      res.end();
    });
    const data = randomBytes(2048);
    const d: Descriptor = { mediaType: 'application/octet-stream', digest: sha256(data), size: data.length };
    const credential = { username: 'alice', password: 's3cret' };
    const direct = connectRegistry(ref(`${registry.host}/r/a`), { credential });
    await direct.pushBlob(d, data);
    const proxy = await startFaultProxy(registry.host, [
      { method: 'GET', path: /\/blobs\/sha256:/, fault: 'redirect', redirectTo: thief.origin },
    ]);
    const target = connectRegistry(ref(`${proxy.host}/r/a`), { credential, retryBaseMs: 1 });
    try {
      assert.equal(await target.exists(d), true, 'basic auth with registry A works');
      await assert.rejects(target.fetchBlob(d), code('RG006'));
      assert.ok(thief.requests.length > 0, 'the redirect was followed');
      assert.deepEqual(
        thief.requests.filter((r) => r.headers.authorization !== undefined || r.url.startsWith('/steal')),
        [],
        'no credentials and no token request went to the redirect target',
      );
      // and A still authenticates with basic afterwards (B's challenge was not filed under A)
      assert.equal(await target.exists(d), true);
    } finally {
      await target.close();
      await direct.close();
      await proxy.stop();
      await thief.stop();
    }
  });

  it('an HTTPS registry naming a plain-HTTP token realm is refused (NE010), nothing sent there', async () => {
    const realm = await startHostileServer((_req, res) => json(res, 200, { token: 't' }));
    const tls = await startHostileServer(
      (_req, res) => {
        res.writeHead(401, { 'www-authenticate': `Bearer realm="${realm.origin}/token",service="s"` });
        res.end();
      },
      { tls: true },
    );
    const target = connectRegistry(
      { kind: 'registry', registry: tls.host, repository: 'x', plainHttp: false },
      { insecure: true, credential: { username: 'alice', password: 's3cret' }, maxRetries: 0 },
    );
    try {
      await assert.rejects(target.tags(), code('NE010'));
      assert.equal(realm.requests.length, 0);
    } finally {
      await target.close();
      await tls.stop();
      await realm.stop();
    }
  });
});

describe('10.5: hostile responses end in bounded time and memory', () => {
  const subject: Descriptor = { mediaType: MEDIA_TYPES.imageManifest, digest: sha256('subject'), size: 7 };

  it('a token service streaming an endless body is cut at 1 MiB (RG040)', { timeout: 30_000 }, async () => {
    let sent = 0;
    const server = await startHostileServer((req, res, self) => {
      if (req.url?.startsWith('/token')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        const pump = () => {
          while (!res.destroyed && res.write(chunk)) sent += chunk.length;
          if (!res.destroyed) res.once('drain', pump);
        };
        pump();
        return;
      }
      res.writeHead(401, { 'www-authenticate': `Bearer realm="${self.origin}/token",service="s"` });
      res.end();
    });
    const target = connectRegistry(ref(`${server.host}/t/endless`), { anonymous: true, maxRetries: 0 });
    try {
      await assert.rejects(target.tags(), code('RG040'));
      assert.ok(sent < 64 * 1024 * 1024, `stopped reading early (server wrote ${sent} bytes)`);
    } finally {
      await target.close();
      await server.stop();
    }
  });

  it('a token service that never answers times out', { timeout: 30_000 }, async () => {
    const server = await startHostileServer((req, res, self) => {
      if (req.url?.startsWith('/token')) return; // hold the request open forever
      res.writeHead(401, { 'www-authenticate': `Bearer realm="${self.origin}/token",service="s"` });
      res.end();
    });
    const target = connectRegistry(ref(`${server.host}/t/silent`), FAST);
    const started = Date.now();
    try {
      // the idle timeout (2 s) or the deadline (3 s), whichever fires first
      await assert.rejects(target.tags(), (e: unknown) => {
        assert.ok(e instanceof AionError);
        assert.match(e.code, /^NE00[35]$/);
        assert.match(e.message, /timed out|did not finish/);
        return true;
      });
      assert.ok(Date.now() - started < 15_000);
    } finally {
      await target.close();
      await server.stop();
    }
  });

  it(
    'a blob trickled one byte at a time fails within its size-scaled deadline (NE003)',
    { timeout: 30_000 },
    async () => {
      const data = randomBytes(1000);
      const d: Descriptor = { mediaType: 'application/octet-stream', digest: sha256(data), size: data.length };
      const server = await startHostileServer((_req, res) => {
        res.writeHead(200, { 'content-length': String(data.length), 'content-type': 'application/octet-stream' });
        trickle(res, data, 100); // never silent for long, but 10 bytes/s: 100 s for the whole blob
      });
      const target = connectRegistry(ref(`${server.host}/t/slow`), FAST);
      const started = Date.now();
      try {
        const stream = await target.fetchBlob(d);
        await assert.rejects(
          (async () => {
            for await (const _ of stream) void _;
          })(),
          code('NE003'),
        );
        // deadline: 3 s + 1000 bytes at 1000 B/s = 4 s (the whole blob would take 100 s)
        assert.ok(Date.now() - started < 20_000, `took ${Date.now() - started} ms`);
      } finally {
        await target.close();
        await server.stop();
      }
    },
  );

  it('a manifest trickled one byte at a time fails by the deadline (NE003)', { timeout: 30_000 }, async () => {
    const server = await startHostileServer((_req, res) => {
      res.writeHead(200, { 'content-type': MEDIA_TYPES.imageManifest });
      // ~60 bytes at 4 bytes/s: 15 s, over the 3 s deadline
      trickle(res, Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.imageManifest })), 250);
    });
    const target = connectRegistry(ref(`${server.host}/t/slowmanifest`), FAST);
    try {
      await assert.rejects(target.fetchManifest('1.0'), code('NE003'));
    } finally {
      await target.close();
      await server.stop();
    }
  });

  it('a referrers `next` link pointing at itself stops (RG041) after one page', { timeout: 30_000 }, async () => {
    const server = await startHostileServer((req, res) => {
      const index = { schemaVersion: 2, mediaType: MEDIA_TYPES.imageIndex, manifests: [] };
      json(res, 200, index, {
        'content-type': MEDIA_TYPES.imageIndex,
        ...(req.url?.includes('/referrers/sha256:0000') ? {} : { link: `<${req.url}>; rel="next"` }),
      });
    });
    const target = connectRegistry(ref(`${server.host}/t/loop`), FAST);
    try {
      await assert.rejects(target.referrers(subject), code('RG041'));
      assert.ok(server.requests.length <= 3, `${server.requests.length} requests`);
    } finally {
      await target.close();
      await server.stop();
    }
  });

  it('a referrers API whose pages never end stops at the page cap (RG041)', { timeout: 60_000 }, async () => {
    const server = await startHostileServer((req, res) => {
      const page = Number(/page=(\d+)/.exec(req.url ?? '')?.[1] ?? 0);
      json(
        res,
        200,
        { schemaVersion: 2, mediaType: MEDIA_TYPES.imageIndex, manifests: [] },
        {
          'content-type': MEDIA_TYPES.imageIndex,
          link: `</v2/t/pages/referrers/${subject.digest}?page=${page + 1}>; rel="next"`,
        },
      );
    });
    const target = connectRegistry(ref(`${server.host}/t/pages`), FAST);
    try {
      await assert.rejects(target.referrers(subject), code('RG041'));
      assert.ok(server.requests.length <= 1002, `${server.requests.length} requests`);
    } finally {
      await target.close();
      await server.stop();
    }
  });
});

describe('10.12: tag lists a registry gets wrong are RG errors', () => {
  it('{"tags":5} is RG042, not a crash', async () => {
    const server = await startHostileServer((_req, res) => json(res, 200, { name: 't', tags: 5 }));
    const target = connectRegistry(ref(`${server.host}/t/five`), FAST);
    try {
      await assert.rejects(target.tags(), code('RG042'));
    } finally {
      await target.close();
      await server.stop();
    }
  });

  it('2 M tags in one page is refused (RG040) without exhausting the stack', { timeout: 60_000 }, async () => {
    const tags = Array.from({ length: 2_000_000 }, (_, i) => `v${i}`);
    const body = Buffer.from(JSON.stringify({ name: 't', tags }));
    const server = await startHostileServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(body);
    });
    // default deadlines: building and sending the 20 MB page must not be what ends it
    const target = connectRegistry(ref(`${server.host}/t/many`), { anonymous: true, maxRetries: 0 });
    try {
      await assert.rejects(target.tags(), code('RG040'));
    } finally {
      await target.close();
      await server.stop();
    }
  });
});

describe('10.15: what a registry says is printed without terminal escapes', () => {
  it('sanitizeForTerminal makes control characters, C1 and bidi overrides visible', () => {
    assert.equal(sanitizeForTerminal('a\x1b[31mred\x07\r\n'), 'a\\x1b[31mred\\x07\\x0d\\x0a');
    assert.equal(sanitizeForTerminal('x\u009b2J\u202eevil\u2028'), 'x\\x9b2J\\u202eevil\\u2028');
    assert.equal(sanitizeForTerminal('line1\nline2\ttab', { newlines: true }), 'line1\nline2\ttab');
    assert.equal(sanitizeForTerminal('café 1.0.0 ✓'), 'café 1.0.0 ✓');
  });

  it('a registry error message with escape sequences reaches the AionError escaped', async () => {
    const server = await startHostileServer((_req, res) =>
      json(res, 404, { errors: [{ code: 'MANIFEST_UNKNOWN', message: 'gone\x1b]0;pwned\x07\x1b[2J' }] }),
    );
    const target = connectRegistry(ref(`${server.host}/t/esc`), FAST);
    try {
      await assert.rejects(target.fetchManifest('1.0'), (e: unknown) => {
        assert.ok(e instanceof AionError);
        assert.equal(e.code, 'RG003');
        assert.doesNotMatch(e.message, /[\x00-\x1f\x7f]/);
        assert.match(e.message, /gone\\x1b\]0;pwned\\x07/);
        return true;
      });
    } finally {
      await target.close();
      await server.stop();
    }
  });
});
