/** Quarantine records are ours, but read as hostile: bounded, and only string fields reach messages. */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { addToQuarantine, isQuarantined, listQuarantine, quarantineDir } from '../../src/lib/sign/quarantine.js';
import { tempDir } from '../helpers/cli.js';

const DIGEST_A = `sha256:${'a'.repeat(64)}`;
const DIGEST_B = `sha256:${'b'.repeat(64)}`;
const DIGEST_C = `sha256:${'c'.repeat(64)}`;

let data: string;
let cleanup: () => Promise<void>;
before(async () => {
  ({ path: data, cleanup } = await tempDir('aionctl-quarantine-'));
});
after(() => cleanup());

describe('quarantine records', () => {
  it('an oversized record still quarantines (fail closed) and is left out of the listing; fields are strings', async () => {
    await addToQuarantine(data, { ref: 'r/a:1', digest: DIGEST_A, code: 'ST009', reason: 'no rule' });
    await writeFile(join(quarantineDir(data), `${'b'.repeat(64)}.json`), `{"reason":"${'x'.repeat(200_000)}"}`);
    await writeFile(
      join(quarantineDir(data), `${'c'.repeat(64)}.json`),
      JSON.stringify({ ref: { evil: true }, reason: ['not', 'text'], code: 7, at: '2026-01-01T00:00:00Z' }),
    );
    const a = await isQuarantined(data, DIGEST_A);
    assert.equal(a?.reason, 'no rule');
    assert.equal(a?.code, 'ST009');
    const b = await isQuarantined(data, DIGEST_B);
    assert.equal(b?.code, 'ST013');
    assert.match(b?.reason ?? '', /oversized quarantine record/);
    const c = await isQuarantined(data, DIGEST_C);
    assert.deepEqual(c, { ref: '', digest: DIGEST_C, code: 'ST013', reason: '', at: '2026-01-01T00:00:00Z' });
    const listed = await listQuarantine(data);
    assert.deepEqual(
      listed.map((r) => r.digest),
      [DIGEST_C, DIGEST_A],
    );
  });
});
