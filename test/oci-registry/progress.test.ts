import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { BIN, REPO_ROOT, runCli, tempDir } from '../helpers/cli.js';
import { writePackage } from '../oci-local/fixtures.js';

const run = promisify(execFile);

describe('transfer progress: ink bars on a terminal, plain lines otherwise', () => {
  let root: string;
  let cleanup: () => Promise<void>;
  let pkg: string;
  before(async () => {
    ({ path: root, cleanup } = await tempDir('aionctl-progress-'));
    pkg = await writePackage(join(root, 'pkg'));
  });
  after(() => cleanup?.());

  it('draws per-blob bars on a real pty (script(1))', { timeout: 60_000 }, async () => {
    const cmd = `stty cols 100 rows 30; ${process.execPath} ${BIN} push ${pkg} oci:${join(root, 'tty')}:1.3.0`;
    const { stdout } = await run('script', ['-qec', cmd, '/dev/null'], {
      cwd: REPO_ROOT,
      env: { ...process.env, AIONCTL_HOME: join(root, 'h1'), CI: '', TERM: 'xterm', NO_COLOR: '1', FORCE_COLOR: '' },
    });
    const text = stdout.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '');
    assert.match(text, /[0-9a-f]{12} \[#{30}\] 8 B\/8 B pushed/);
    assert.match(stdout, /sha256:[0-9a-f]{64}/);
  });

  it(
    'prints one plain line per blob when not a terminal, nothing with --quiet or --json',
    {
      timeout: 60_000,
    },
    async () => {
      const env = { AIONCTL_HOME: join(root, 'h2') };
      const plain = await runCli(['push', pkg, `oci:${join(root, 'plain')}:1.3.0`], { env });
      assert.equal(plain.code, 0, plain.stderr);
      assert.match(plain.stderr, /^pushed [0-9a-f]{12} 8 B$/m);
      assert.ok(!plain.stderr.includes('['), 'no bars in a pipe');
      const quiet = await runCli(['push', pkg, `oci:${join(root, 'quiet')}:1.3.0`, '-q'], { env });
      assert.ok(!/^pushed [0-9a-f]{12}/m.test(quiet.stderr));
      const json = await runCli(['push', pkg, `oci:${join(root, 'json')}:1.3.0`, '--json'], { env });
      assert.equal(json.code, 0, json.stderr);
      assert.ok(!/pushed|packed/.test(json.stderr), json.stderr);
    },
  );

  it('loads ink only lazily (plain commands do not pay for it)', async () => {
    const compiled = await readFile(join(REPO_ROOT, 'dist', 'src', 'lib', 'cli', 'progress.js'), 'utf8');
    assert.ok(!/^import .*['"]ink['"]/m.test(compiled), 'progress.js must not import ink statically');
    assert.match(compiled, /import\(['"]\.\/progress-bars\.js['"]\)/);
  });
});
