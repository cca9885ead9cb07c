import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseJson, REPO_ROOT, runCli } from '../helpers/cli.js';

interface Expected {
  file: string;
  code: string;
  line: number;
  col: number;
}

const FIXTURES = join(REPO_ROOT, 'test', 'fixtures', 'invalid');

describe('validate: one invalid fixture per error class', { timeout: 600_000 }, () => {
  const cases = readdirSync(FIXTURES).filter((d) => statSync(join(FIXTURES, d)).isDirectory());

  it('covers every SC code that a document can produce, plus unreadable input', () => {
    const codes = new Set(cases.map((c) => c.slice(0, 5).toUpperCase()));
    for (let n = 1; n <= 16; n++) assert.ok(codes.has(`SC${String(n).padStart(3, '0')}`), `no fixture for SC${n}`);
    assert.ok(codes.has('SC021'), 'no fixture for SC021');
    assert.ok(codes.has('FS004'));
  });

  for (const name of cases) {
    it(`${name} yields exactly its expected code and position`, async () => {
      const dir = join(FIXTURES, name);
      const expected = JSON.parse(readFileSync(join(dir, 'expect.json'), 'utf8')) as Expected[];
      const files = readdirSync(dir)
        .filter((f) => f !== 'expect.json' && statSync(join(dir, f)).isFile())
        .sort();
      const result = await runCli(['validate', ...files, '--json'], { cwd: dir });
      const report = parseJson<{ diagnostics: Expected[] }>(result);
      const got = report.diagnostics.map(({ file, code, line, col }) => ({ file, code, line, col }));
      assert.deepEqual(got, expected);
      assert.equal(result.code, name.startsWith('fs') ? 3 : 1, 'exit 1 invalid, 3 unreadable');
    });
  }
});
