#!/usr/bin/env node
// Production entry: loads compiled commands through oclif.manifest.json (no command scan at start-up).
// Fast path: `aionctl run` is handed to a live daemon of this exact build before oclif loads (node built-ins only);
// it falls through to oclif for everything else (no daemon, other flags, AIONCTL_DAEMON=off, --no-daemon).
import { readFileSync } from 'node:fs';

let handled = false;
if (process.argv[2] === 'run' && process.env.AIONCTL_DAEMON !== 'off') {
  let fast;
  try {
    fast = await import('../dist/src/lib/daemon/fast-run.js');
  } catch {
    fast = undefined; // not built: oclif reports it
  }
  if (fast) {
    const code = await fast.fastRun(process.argv.slice(3), process.env, process.cwd(), {
      stdout: (text) => process.stdout.write(text),
      stderr: (text) => process.stderr.write(text),
      readStdin: () => readFileSync(0, 'utf8'),
    });
    if (code !== undefined) {
      handled = true;
      process.exitCode = code;
    }
  }
}
if (!handled) {
  const { execute } = await import('@oclif/core');
  await execute({ dir: import.meta.url });
}
