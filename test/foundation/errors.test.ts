import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { renderErrorsMarkdown } from '../../src/lib/errors/docs.js';
import { AionError, CATALOG, EXIT, exitCodeFor } from '../../src/lib/errors/index.js';
import { REPO_ROOT } from '../helpers/cli.js';

describe('error model', () => {
  it('docs/errors.md is generated from the catalog (run `npm run docs:errors` after adding a code)', async () => {
    const onDisk = await readFile(join(REPO_ROOT, 'docs', 'errors.md'), 'utf8');
    assert.equal(onDisk, renderErrorsMarkdown());
  });

  it('every code is unique, belongs to its family and has a summary', () => {
    const seen = new Set<string>();
    for (const [family, specs] of Object.entries(CATALOG)) {
      for (const spec of specs) {
        assert.match(spec.code, /^[A-Z]{2}\d{3}$/);
        assert.equal(spec.code.slice(0, 2), family, `${spec.code} filed under ${family}`);
        assert.ok(!seen.has(spec.code), `duplicate ${spec.code}`);
        assert.ok(spec.summary.length > 10);
        seen.add(spec.code);
      }
    }
  });

  it('maps families to documented exit codes in one place', () => {
    assert.equal(exitCodeFor('CI001'), EXIT.USAGE);
    assert.equal(exitCodeFor('FS001'), EXIT.INPUT);
    assert.equal(exitCodeFor('MD001'), EXIT.INPUT);
    assert.equal(exitCodeFor('EX001'), EXIT.INTERNAL);
    assert.equal(new AionError('FS002', 'x').exitCode, EXIT.INPUT);
  });

  it('refuses codes that are not catalogued, so every emitted code is documented', () => {
    // A typo does not compile (ErrorCode is generated from the catalogue); a cast still fails at run time.
    // @ts-expect-error MD999 is not a catalogued code
    assert.throws(() => new AionError('MD999', 'nope'), /not in the catalog/);
  });

  it('renders a position as file:line:col and serialises for --json', () => {
    const err = new AionError('MD003', 'bad yaml', { position: { file: 'a.py', line: 3, col: 7 }, hint: 'fix it' });
    assert.equal(err.location, 'a.py:3:7');
    assert.deepEqual(err.toJSON(), {
      code: 'MD003',
      message: 'bad yaml',
      hint: 'fix it',
      position: { file: 'a.py', line: 3, col: 7 },
    });
  });
});
