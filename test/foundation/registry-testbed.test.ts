import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

describe('test bed: real docker-registry', { timeout: 60_000 }, () => {
  let open: TestRegistry;
  let authed: TestRegistry;
  before(async () => {
    open = await startRegistry();
    authed = await startRegistry({ auth: { username: 'alice', password: 's3cret-pass' } });
  });
  after(async () => {
    await open?.stop();
    await authed?.stop();
  });

  it('answers the OCI base endpoint anonymously', async () => {
    const res = await fetch(`http://${open.host}/v2/`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('docker-distribution-api-version'), 'registry/2.0');
  });

  it('demands basic auth when started with htpasswd, and accepts the right password only', async () => {
    const anon = await fetch(`http://${authed.host}/v2/`);
    assert.equal(anon.status, 401);
    assert.match(anon.headers.get('www-authenticate') ?? '', /^Basic realm="aionctl-test"/);
    const basic = (u: string, p: string) => ({ authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` });
    assert.equal((await fetch(`http://${authed.host}/v2/`, { headers: basic('alice', 's3cret-pass') })).status, 200);
    assert.equal((await fetch(`http://${authed.host}/v2/`, { headers: basic('alice', 'wrong') })).status, 401);
  });
});
