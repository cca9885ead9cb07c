import assert from 'node:assert/strict';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AionError } from '../../src/lib/errors/index.js';
import { dockerConfigPath, eraseCredential, getCredential, storeCredential } from '../../src/lib/oci/registry/index.js';
import { tempDir } from '../helpers/cli.js';

/** A real credential helper speaking docker's protocol (get/store/erase, JSON on stdin/stdout) over a JSON file. */
const HELPER = `#!/bin/sh
db="$HELPER_DB"
[ -f "$db" ] || echo '{}' > "$db"
input=$(cat)
case "$1" in
  get) node -e 'const db=JSON.parse(require("fs").readFileSync(process.argv[1]));const e=db[process.argv[2]];if(!e){process.stdout.write("credentials not found in native keychain");process.exit(1)}process.stdout.write(JSON.stringify({ServerURL:process.argv[2],Username:e.u,Secret:e.s}))' "$db" "$input" ;;
  store) node -e 'const fs=require("fs");const db=JSON.parse(fs.readFileSync(process.argv[1]));const c=JSON.parse(process.argv[2]);db[c.ServerURL]={u:c.Username,s:c.Secret};fs.writeFileSync(process.argv[1],JSON.stringify(db))' "$db" "$input" ;;
  erase) node -e 'const fs=require("fs");const db=JSON.parse(fs.readFileSync(process.argv[1]));if(!db[process.argv[2]]){process.stdout.write("credentials not found in native keychain");process.exit(1)}delete db[process.argv[2]];fs.writeFileSync(process.argv[1],JSON.stringify(db))' "$db" "$input" ;;
  *) exit 2 ;;
esac
`;

describe('Docker credentials (config.json, helpers)', () => {
  let root: string;
  let cleanup: () => Promise<void>;
  let env: Record<string, string | undefined>;
  before(async () => {
    ({ path: root, cleanup } = await tempDir('aionctl-creds-'));
    await mkdir(join(root, 'bin'));
    await writeFile(join(root, 'bin', 'docker-credential-testdb'), HELPER);
    await chmod(join(root, 'bin', 'docker-credential-testdb'), 0o755);
    env = {
      HOME: join(root, 'home'),
      DOCKER_CONFIG: join(root, 'docker'),
      HELPER_DB: join(root, 'db.json'),
      PATH: `${join(root, 'bin')}:${process.env.PATH}`,
    };
  });
  after(() => cleanup?.());

  it('honours DOCKER_CONFIG and falls back to ~/.docker', () => {
    assert.equal(dockerConfigPath({ DOCKER_CONFIG: '/x' }), '/x/config.json');
    assert.equal(dockerConfigPath({ HOME: '/h' }), '/h/.docker/config.json');
  });

  it('stores in auths with mode 0600 and reads it back; erase removes it', async () => {
    assert.equal(await getCredential('r.example:5000', env), undefined);
    const { location } = await storeCredential('r.example:5000', { username: 'u', password: 'p:w' }, env);
    assert.equal(location, join(root, 'docker', 'config.json'));
    assert.equal((await stat(location)).mode & 0o777, 0o600);
    const config = JSON.parse(await readFile(location, 'utf8'));
    assert.equal(config.auths['r.example:5000'].auth, Buffer.from('u:p:w').toString('base64'));
    assert.deepEqual(await getCredential('r.example:5000', env), { username: 'u', password: 'p:w' });
    assert.equal(await eraseCredential('r.example:5000', env), true);
    assert.equal(await getCredential('r.example:5000', env), undefined);
    assert.equal(await eraseCredential('r.example:5000', env), false);
  });

  it('tightens an existing world-readable config to 0600 and keeps other keys', async () => {
    const path = join(root, 'docker', 'config.json');
    await writeFile(path, JSON.stringify({ auths: {}, psFormat: 'table' }), { mode: 0o644 });
    await chmod(path, 0o644);
    await storeCredential('other.example', { username: 'a', password: 'b' }, env);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.equal(JSON.parse(await readFile(path, 'utf8')).psFormat, 'table');
  });

  it('reads legacy https:// keys, identity tokens and docker.io aliases', async () => {
    await writeFile(
      join(root, 'docker', 'config.json'),
      JSON.stringify({
        auths: {
          'https://legacy.example/': { auth: Buffer.from('old:pw').toString('base64') },
          'https://index.docker.io/v1/': { auth: Buffer.from('hub:pw').toString('base64') },
          'tok.example': { identitytoken: 'refresh-me' },
        },
      }),
    );
    assert.deepEqual(await getCredential('legacy.example', env), { username: 'old', password: 'pw' });
    assert.deepEqual(await getCredential('docker.io', env), { username: 'hub', password: 'pw' });
    assert.deepEqual(await getCredential('tok.example', env), { identityToken: 'refresh-me' });
  });

  it('credHelpers wins over credsStore and auths; store/erase go through the helper', async () => {
    await writeFile(
      join(root, 'docker', 'config.json'),
      JSON.stringify({
        credHelpers: { 'helped.example': 'testdb' },
        credsStore: 'missing-helper',
        auths: { 'helped.example': { auth: Buffer.from('plain:pw').toString('base64') } },
      }),
    );
    // nothing in the helper yet: falls through to auths
    assert.deepEqual(await getCredential('helped.example', env), { username: 'plain', password: 'pw' });
    const { location } = await storeCredential('helped.example', { username: 'h', password: 'secret' }, env);
    assert.equal(location, 'docker-credential-testdb');
    assert.deepEqual(await getCredential('helped.example', env), { username: 'h', password: 'secret' });
    const config = await readFile(join(root, 'docker', 'config.json'), 'utf8');
    assert.ok(!config.includes('secret'), 'the secret must not be written to config.json');
    assert.equal(await eraseCredential('helped.example', env), true);
    // a host without credHelpers uses credsStore, which is not installed: a clear RG017
    await assert.rejects(getCredential('any.example', env), (err: unknown) => {
      assert.ok(err instanceof AionError);
      assert.equal(err.code, 'RG017');
      assert.match(err.hint ?? '', /docker-credential-missing-helper/);
      return true;
    });
  });

  it('an invalid config.json is RG016, never a crash', async () => {
    await writeFile(join(root, 'docker', 'config.json'), '{not json');
    await assert.rejects(getCredential('x.example', env), (err: unknown) => (err as AionError).code === 'RG016');
  });
});
