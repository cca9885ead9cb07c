import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

// Regression: the helper once piped docker-registry's log to this process. A caller blocked in spawnSync (the
// install bench) stopped draining that pipe; once 64 KiB of logged 404s filled it, every 404 hung (NE003 at 120 s).
describe('test registry helper: the registry never blocks on its log', () => {
  let registry: TestRegistry;
  before(async () => {
    registry = await startRegistry();
  });
  after(async () => {
    await registry?.stop();
  });

  it('answers many 404s while the event loop of its parent is blocked', () => {
    // One synchronous child fires the requests: this process's event loop cannot run until it is done.
    const script = `
      const url = process.argv[1];
      (async () => {
        for (let i = 0; i < 400; i++) {
          const res = await fetch(url + i, { signal: AbortSignal.timeout(5000) });
          await res.arrayBuffer();
          if (res.status !== 404) throw new Error('status ' + res.status);
        }
      })().catch((err) => { console.error(String(err)); process.exit(1); });`;
    const r = spawnSync(process.execPath, ['-e', script, `http://${registry.host}/v2/agents/none/manifests/missing`], {
      encoding: 'utf8',
      timeout: 25_000,
    });
    assert.equal(r.status, 0, r.stderr);
  });
});
