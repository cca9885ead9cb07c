import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  normaliseScopes,
  parseChallenges,
  parseNextLink,
  parseRetryAfter,
  presentTags,
  registryError,
  tagVersion,
} from '../../src/lib/oci/registry/index.js';

describe('WWW-Authenticate parsing', () => {
  it('parses a bearer challenge with a comma inside a quoted scope', () => {
    const [c] = parseChallenges(
      'Bearer realm="https://auth.example/token",service="registry.example",scope="repository:samalba/my-app:pull,push"',
    );
    assert.deepEqual(c, {
      scheme: 'bearer',
      params: {
        realm: 'https://auth.example/token',
        service: 'registry.example',
        scope: 'repository:samalba/my-app:pull,push',
      },
    });
  });

  it('parses several challenges, escapes and unquoted values', () => {
    const cs = parseChallenges('Basic realm="a \\"quoted\\" realm", Bearer realm=https://x/t, error=invalid_token');
    assert.equal(cs.length, 2);
    assert.deepEqual(cs[0], { scheme: 'basic', params: { realm: 'a "quoted" realm' } });
    assert.deepEqual(cs[1], { scheme: 'bearer', params: { realm: 'https://x/t', error: 'invalid_token' } });
    assert.deepEqual(parseChallenges(undefined), []);
    assert.deepEqual(parseChallenges('Basic'), [{ scheme: 'basic', params: {} }]);
  });
});

describe('Link and Retry-After', () => {
  it('finds rel="next" and resolves it against the request URL', () => {
    assert.equal(
      parseNextLink('</v2/a/tags/list?n=2&last=b>; rel="next"', 'http://r:5000/v2/a/tags/list?n=2'),
      'http://r:5000/v2/a/tags/list?n=2&last=b',
    );
    assert.equal(parseNextLink('<http://o/x>; rel="prev", <http://o/y>; rel=next', 'http://r/'), 'http://o/y');
    assert.equal(parseNextLink('<http://o/x>; rel="prev"', 'http://r/'), undefined);
    assert.equal(parseNextLink(undefined, 'http://r/'), undefined);
  });

  it('reads seconds and HTTP dates', () => {
    assert.equal(parseRetryAfter('3'), 3000);
    assert.equal(parseRetryAfter(new Date(10_000).toUTCString(), 4_000), 6000);
    assert.equal(parseRetryAfter('soon'), undefined);
  });
});

describe('tag presentation', () => {
  const hex = 'a'.repeat(64);
  const tags = ['latest', '1.10.0', '1.2.0', `sha256-${hex}`, `sha256-${hex}.sig`, '1.2.0_build.1', '2.0.0-rc.1', 'v3'];

  it('hides referrer tags unless all, and sorts lexically by default', () => {
    assert.deepEqual(presentTags(tags), ['1.10.0', '1.2.0', '1.2.0_build.1', '2.0.0-rc.1', 'latest', 'v3']);
    assert.equal(presentTags(tags, { all: true }).length, tags.length);
  });

  it('sorts semver highest first, reading _ as +, then the rest', () => {
    assert.deepEqual(presentTags(tags, { sort: 'semver' }), [
      '2.0.0-rc.1',
      '1.10.0',
      '1.2.0',
      '1.2.0_build.1',
      'latest',
      'v3',
    ]);
    assert.equal(tagVersion('1.2.0_build.1'), '1.2.0+build.1');
    assert.equal(tagVersion('latest'), undefined);
  });
});

describe('registry error mapping', () => {
  const ctx = { action: 'pull x', host: 'r.example' };
  const cases: [number, string, string][] = [
    [404, '{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}', 'RG003'],
    [404, '{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known"}]}', 'RG004'],
    [404, '{"errors":[{"code":"BLOB_UNKNOWN"}]}', 'RG005'],
    [401, '{"errors":[{"code":"UNAUTHORIZED"}]}', 'RG006'],
    [403, '{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}', 'RG007'],
    [429, '{"errors":[{"code":"TOOMANYREQUESTS"}]}', 'RG008'],
    [400, '{"errors":[{"code":"MANIFEST_INVALID"}]}', 'RG011'],
    [400, '{"errors":[{"code":"MANIFEST_BLOB_UNKNOWN"}]}', 'RG018'],
    [400, '{"errors":[{"code":"DIGEST_INVALID"}]}', 'RG012'],
    [404, '404 page not found', 'RG003'],
    [401, '', 'RG006'],
    [503, '<html>down</html>', 'RG014'],
    [418, 'teapot', 'RG015'],
  ];
  for (const [status, body, code] of cases) {
    it(`${status} ${body.slice(0, 40)} -> ${code}`, () => {
      const err = registryError(status, body, ctx);
      assert.equal(err.code, code);
      assert.ok(err.hint && err.hint.length > 5);
      assert.match(err.message, new RegExp(`^pull x: registry answered ${status}`));
    });
  }

  it('gives a login hint naming the host for 401', () => {
    assert.match(registryError(401, '', ctx).hint ?? '', /aionctl login r\.example/);
  });

  it('a plain 404 on a blob is BLOB_UNKNOWN', () => {
    assert.equal(registryError(404, '', { ...ctx, notFound: 'blob' }).code, 'RG005');
  });
});

describe('token scopes', () => {
  it('merges actions per resource and sorts, so cache keys are stable', () => {
    assert.deepEqual(normaliseScopes(['repository:a/b:pull,push', 'repository:a/b:pull', 'repository:c:pull', '']), [
      'repository:a/b:pull,push',
      'repository:c:pull',
    ]);
    assert.deepEqual(normaliseScopes(['registry:catalog:*']), ['registry:catalog:*']);
  });
});
