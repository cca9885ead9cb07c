// kill -9 at random moments of a large pull: the store never holds a corrupt blob or an index entry whose
// blobs are missing, and the next pull completes. The blobs are renamed into place only after their digest
// matched and their bytes were fsynced; index.json changes last, after the blobs directory was synced.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BIN, parseJson, REPO_ROOT, runCli, tempDir } from '../helpers/cli.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { writePackage } from '../oci-local/fixtures.js';

const MiB = 1024 * 1024;
const REF_NAME = 'org.opencontainers.image.ref.name';

async function fileDigest(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

interface Entry {
  digest: string;
  annotations?: Record<string, string>;
}

/**
 * Checks a store as the next command would find it: every file in blobs/sha256 hashes to its name, and every
 * index.json entry names a manifest whose config and layers are all present. Returns the tags and blob count.
 */
async function assertStoreIntact(home: string): Promise<{ refs: string[]; blobs: number; temps: number }> {
  const store = join(home, 'data', 'store');
  const dir = join(store, 'blobs', 'sha256');
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) assert.equal(await fileDigest(join(dir, name)), name, `store blob ${name} is corrupt`);
  const temps = (await readdir(join(store, 'ingest')).catch(() => [] as string[])).length;
  let text: string;
  try {
    text = await readFile(join(store, 'index.json'), 'utf8');
  } catch {
    return { refs: [], blobs: names.length, temps };
  }
  const index = JSON.parse(text) as { manifests: Entry[] };
  const present = new Set(names);
  const refs: string[] = [];
  for (const entry of index.manifests) {
    const hex = entry.digest.slice('sha256:'.length);
    assert.ok(present.has(hex), `index.json lists ${entry.digest} but its manifest blob is missing`);
    const manifest = JSON.parse(await readFile(join(dir, hex), 'utf8')) as { config?: Entry; layers?: Entry[] };
    for (const d of [manifest.config, ...(manifest.layers ?? [])]) {
      if (d) assert.ok(present.has(d.digest.slice('sha256:'.length)), `${entry.digest} lacks blob ${d.digest}`);
    }
    const ref = entry.annotations?.[REF_NAME];
    if (ref) refs.push(ref);
  }
  return { refs, blobs: names.length, temps };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves when the child has exited (code or signal). */
function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null)
      resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

/** Bytes the store holds on disk (blobs and temp files): how far a pull has got, whatever its file names. */
async function storeBytes(home: string): Promise<number> {
  let total = 0;
  for (const dir of [join(home, 'data', 'store', 'blobs', 'sha256'), join(home, 'data', 'store', 'ingest')]) {
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      total += (await stat(join(dir, name)).catch(() => undefined))?.size ?? 0;
    }
  }
  return total;
}

/** True once the store has grown to `bytes` while the child still runs (a kill now lands mid-transfer). */
async function grownTo(home: string, bytes: number, child: ChildProcess, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && child.exitCode === null && child.signalCode === null) {
    if ((await storeBytes(home)) >= bytes) return child.exitCode === null && child.signalCode === null;
    await sleep(2);
  }
  return false;
}

describe('pull killed with SIGKILL at random moments', () => {
  let registry: TestRegistry;
  let root: string;
  let cleanup: () => Promise<void>;
  let digest: string;
  let remote: string;
  const env = (home: string) => ({
    AIONCTL_HOME: join(root, home),
    DOCKER_CONFIG: join(root, 'docker'),
    NO_COLOR: '1',
  });

  before(async () => {
    registry = await startRegistry();
    ({ path: root, cleanup } = await tempDir('aionctl-pull-kill-'));
    // three large layers (random: nothing dedupes) so kills land inside and between blob transfers
    const pkg = await writePackage(join(root, 'pkg'), {
      files: {
        'data/a.bin': randomBytes(24 * MiB),
        'data/b.bin': randomBytes(24 * MiB),
        'data/c.bin': randomBytes(16 * MiB),
      },
    });
    remote = `${registry.host}/kill/pkg:1.0.0`;
    const r = await runCli(['push', pkg, remote, '--json'], { env: env('src-home'), timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    digest = parseJson<{ digest: string }>(r).digest;
  });
  after(async () => {
    await registry?.stop();
    await cleanup?.();
  });

  it('leaves no corrupt blob and no partial index entry; the next pull succeeds', async () => {
    // an uninterrupted pull first: how long one takes here (the random kill moments are spread over it)
    const started = Date.now();
    const full = await runCli(['pull', '--insecure-skip-verify', remote, '--json'], {
      env: env('ref-home'),
      timeoutMs: 120_000,
    });
    assert.equal(full.code, 0, full.stderr);
    const fullMs = Date.now() - started;
    const reference = await assertStoreIntact(join(root, 'ref-home'));
    const total = await storeBytes(join(root, 'ref-home'));

    const home = join(root, 'kill-home');
    const moments: string[] = [];
    let midBlob = 0;
    for (let i = 0; i < 6; i++) {
      const child = spawn(process.execPath, [BIN, 'pull', '--insecure-skip-verify', remote, '--quiet'], {
        cwd: REPO_ROOT,
        env: { ...process.env, ...env('kill-home') },
        stdio: 'ignore',
      });
      const done = exited(child);
      let inTransfer = false;
      const before = await storeBytes(home);
      if (i % 2 === 0 && total - before > 4 * MiB) {
        // inside the transfer: once the store has grown by a random share of what is still missing
        inTransfer = await grownTo(home, before + (0.05 + 0.85 * Math.random()) * (total - before), child, 60_000);
      } else {
        // any moment of the command, start-up included
        await sleep(Math.random() * fullMs);
      }
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      const end = await done;
      moments.push(end.signal === 'SIGKILL' ? 'killed' : `exited ${end.code}`);
      const state = await assertStoreIntact(home);
      if (end.signal === 'SIGKILL' && inTransfer) midBlob++;
      // a tag appears only with its whole artifact (assertStoreIntact checked its blobs)
      assert.ok(state.refs.length === 0 || state.refs.includes(`${registry.host}/kill/pkg:1.0.0`), moments.join());
    }
    assert.ok(moments.includes('killed'), `no pull was killed: ${moments.join(', ')}`);
    assert.ok(midBlob > 0, `no kill landed inside the transfer: ${moments.join(', ')}`);

    // the next pull completes from whatever the kills left, and the store equals an uninterrupted pull's
    const again = await runCli(['pull', '--insecure-skip-verify', remote, '--json'], {
      env: env('kill-home'),
      timeoutMs: 120_000,
    });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(parseJson<{ digest: string }>(again).digest, digest);
    const final = await assertStoreIntact(home);
    assert.deepEqual(final.refs, reference.refs);
    assert.equal(final.blobs, reference.blobs);
    const extract = await runCli(['pull', '--insecure-skip-verify', remote, '-o', join(root, 'out'), '--json'], {
      env: env('kill-home'),
    });
    assert.equal(extract.code, 0, extract.stderr);
    assert.equal(
      await fileDigest(join(root, 'out', 'data', 'c.bin')),
      await fileDigest(join(root, 'pkg', 'data', 'c.bin')),
    );
  });
});
