import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AionError } from '../../src/lib/errors/index.js';
import {
  formatReference,
  parseReference,
  registryBaseUrl,
  requireSelector,
  type RegistryReference,
} from '../../src/lib/oci/reference.js';

const D = `sha256:${'a'.repeat(64)}`;

function rejects(input: string, code: string, pattern: RegExp, options = {}): void {
  assert.throws(
    () => parseReference(input, options),
    (err: unknown) => err instanceof AionError && err.code === code && pattern.test(err.message),
    `expected ${code} for ${input}`,
  );
}

describe('parseReference: registry', () => {
  it('parses host:port/path:tag@digest and defaults loopback to plain HTTP', () => {
    assert.deepEqual(parseReference(`127.0.0.1:5000/team/agent:1.0@${D}`), {
      kind: 'registry',
      registry: '127.0.0.1:5000',
      repository: 'team/agent',
      tag: '1.0',
      digest: D,
      plainHttp: true,
    });
    assert.equal((parseReference('localhost/a') as RegistryReference).plainHttp, true);
    assert.equal((parseReference('localhost:8080/a') as RegistryReference).plainHttp, true);
    assert.equal((parseReference('[::1]:5000/a:b') as RegistryReference).plainHttp, true);
    assert.equal((parseReference('127.1.2.3:1/a') as RegistryReference).plainHttp, true);
  });

  it('uses HTTPS for other hosts unless --plain-http', () => {
    const ref = parseReference('ghcr.io/acme/agent:2') as RegistryReference;
    assert.equal(ref.plainHttp, false);
    assert.equal(registryBaseUrl(ref), 'https://ghcr.io');
    const plain = parseReference('registry.lan:5000/acme/agent', { plainHttp: true }) as RegistryReference;
    assert.equal(plain.plainHttp, true);
    assert.equal(registryBaseUrl(plain), 'http://registry.lan:5000');
  });

  it('normalises Docker Hub', () => {
    for (const host of ['docker.io', 'index.docker.io', 'registry-1.docker.io', 'Docker.IO']) {
      const ref = parseReference(`${host}/alpine:3`) as RegistryReference;
      assert.equal(ref.registry, 'docker.io');
      assert.equal(ref.repository, 'library/alpine');
      assert.equal(registryBaseUrl(ref), 'https://registry-1.docker.io');
    }
    assert.equal((parseReference('docker.io/acme/x') as RegistryReference).repository, 'acme/x');
  });

  it('stores + in tags as _ (semver build metadata)', () => {
    assert.equal(parseReference('localhost/a:1.0.0+build.5').tag, '1.0.0_build.5');
  });

  it('round-trips through formatReference', () => {
    for (const s of [`127.0.0.1:5000/a/b:c@${D}`, 'ghcr.io/x/y', `oci:/tmp/l:t@${D}`, 'acme/agent:1.0', 'oci:rel']) {
      assert.equal(formatReference(parseReference(s)), s);
    }
  });

  it('rejects bad references with a message naming the bad part', () => {
    rejects('', 'RG001', /empty/);
    rejects('localhost/Agent:1', 'RG001', /"Agent" is not a valid repository path component/);
    rejects('localhost/a:-bad', 'RG001', /not a valid tag/);
    rejects(`localhost/a:${'x'.repeat(129)}`, 'RG001', /not a valid tag/);
    rejects('localhost:99999/a', 'RG001', /not a valid port/);
    rejects('bad_host.io/a', 'RG001', /not a valid host name/);
    rejects('localhost//a', 'RG001', /empty path component/);
    rejects('https://ghcr.io/a', 'RG001', /URLs are not references/);
    rejects('ghcr.io/a b', 'RG001', /whitespace/);
    rejects('[::1/a', 'RG001', /IPv6/);
    rejects('localhost/a@sha256:abc', 'RG002', /malformed digest/);
    rejects(`localhost/a@sha512:${'a'.repeat(128)}`, 'RG002', /unsupported digest algorithm "sha512"/);
    rejects(`localhost/a@sha256:${'A'.repeat(64)}`, 'RG002', /malformed/);
    rejects(`ghcr.io/${'a'.repeat(256)}`, 'RG001', /longer than 255/);
  });
});

describe('parseReference: layouts and the store', () => {
  it('parses oci:PATH[:tag][@digest]', () => {
    assert.deepEqual(parseReference('oci:/tmp/out:1.0'), { kind: 'layout', path: '/tmp/out', tag: '1.0' });
    assert.deepEqual(parseReference(`oci:./out@${D}`), { kind: 'layout', path: './out', digest: D });
    assert.deepEqual(parseReference('oci:./out'), { kind: 'layout', path: './out' });
    // a colon inside a directory name is part of the path
    assert.deepEqual(parseReference('oci:./a:b/c'), { kind: 'layout', path: './a:b/c' });
    assert.deepEqual(parseReference('oci:./at@home'), { kind: 'layout', path: './at@home' });
    rejects('oci:', 'RG001', /layout path is empty/);
    rejects('oci::tag', 'RG001', /layout path is empty/);
    rejects('oci:/x:bad tag', 'RG001', /whitespace/);
  });

  it('treats a reference without a host as the local store', () => {
    assert.deepEqual(parseReference('acme/agent:1.2.3'), { kind: 'store', repository: 'acme/agent', tag: '1.2.3' });
    assert.deepEqual(parseReference('agent'), { kind: 'store', repository: 'agent' });
    assert.deepEqual(parseReference(`agent@${D}`), { kind: 'store', repository: 'agent', digest: D });
    rejects('Agent:1', 'RG001', /"Agent"/);
  });

  it('requireSelector prefers the digest and demands one of them', () => {
    assert.equal(requireSelector(parseReference(`a:t@${D}`)), D);
    assert.equal(requireSelector(parseReference('a:t')), 't');
    assert.throws(
      () => requireSelector(parseReference('localhost/a')),
      (e: unknown) => (e as AionError).code === 'RG020',
    );
  });
});
