#!/usr/bin/env node
// Production entry: loads compiled commands through oclif.manifest.json (no command scan at start-up).
// Start-up fast paths (issue 15), each falling through to plain oclif whenever it cannot answer exactly as oclif:
// - `aionctl --version` is answered from package.json with node built-ins only (oclif's exact `config.userAgent`).
// - `aionctl run` is handed to a live daemon of this exact build before oclif loads (node built-ins only); it falls
//   through for everything else (no daemon, other flags, AIONCTL_DAEMON=off, --no-daemon).
// - stamp, validate, push and pull run without @oclif/core at all (dist/src/lib/cli/lite.js: the command's handler
//   with the same flag values, output and errors), unless argv needs oclif (help, usage errors, unusual shapes).
// - the hot commands (stamp, validate, verify, run, push, pull) are dispatched with the root plugin only: oclif's own
//   `execute`, but without loading @oclif/plugin-help (only the `help` command comes from it).
// - @oclif/core's Node engine check loads all of semver (47 modules): the same check is made here on its
//   `engines.node` when that is a plain `>=x.y.z`, and oclif is told to skip it.
// - @oclif/core's CommonJS tree is loaded from dist/startup-pack.txt when that is current (bin/startup-pack.js).
import { existsSync, readFileSync } from 'node:fs';
import { platform, release } from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const HOT = new Set(['stamp', 'validate', 'verify', 'run', 'push', 'pull']);
// The commands src/lib/cli/lite.js has handlers for (the start-up test fails if one of them loads oclif).
const LITE = new Set(['stamp', 'validate', 'push', 'pull']);
const argv = process.argv.slice(2);
// AIONCTL_FAST_START=off: plain oclif for everything but the daemon hand-off (the bench's same-run reference, and
// the tests' proof that the fast paths answer exactly as oclif does).
const FAST = process.env.AIONCTL_FAST_START !== 'off';

let pjsonCache;
function pjson() {
  pjsonCache ??= JSON.parse(readFileSync(`${ROOT}/package.json`, 'utf8'));
  return pjsonCache;
}

/** oclif's platform is `wsl` inside WSL (wsl-utils): leave those machines to oclif's own detection. */
function maybeWsl() {
  if (platform() !== 'linux') return false;
  if (release().toLowerCase().includes('microsoft')) return true;
  try {
    if (readFileSync('/proc/version', 'utf8').toLowerCase().includes('microsoft')) return true;
  } catch {
    // no /proc: fall through to the path checks, as wsl-utils does
  }
  return existsSync('/proc/sys/fs/binfmt_misc/WSLInterop') || existsSync('/run/WSL');
}

/** What `oclif` prints for its version flags: `<name>/<version> <platform>-<arch> node-<version>`, or undefined. */
function versionLine() {
  const pkg = pjson();
  const flags = new Set(['--version', ...(pkg.oclif?.additionalVersionFlags ?? [])]);
  if (!flags.has(argv[0]) || !pkg.name) return undefined;
  if (process.env.DEBUG || maybeWsl()) return undefined; // oclif's debug output and WSL detection: let it answer
  const arch = process.arch === 'ia32' ? 'x86' : process.arch;
  return `${pkg.name}/${pkg.version || '0.0.0'} ${platform()}-${arch} node-${process.version}`;
}

/** Sets OCLIF_DISABLE_ENGINE_WARNING while @oclif/core loads when this process already passes its engine check. */
async function importOclif() {
  let set = false;
  if (FAST && process.env.OCLIF_DISABLE_ENGINE_WARNING === undefined) {
    try {
      const core = JSON.parse(readFileSync(fileURLToPath(import.meta.resolve('@oclif/core/package.json')), 'utf8'));
      const min = /^>=\s*(\d+)\.(\d+)\.(\d+)$/.exec(core.engines?.node?.trim() ?? '');
      const have = process.versions.node.split('.').map(Number);
      if (min) {
        const want = min.slice(1).map(Number);
        const cmp = have[0] - want[0] || have[1] - want[1] || have[2] - want[2];
        set = cmp >= 0;
      }
    } catch {
      set = false; // oclif checks (and warns) itself
    }
  }
  if (set) process.env.OCLIF_DISABLE_ENGINE_WARNING = 'true';
  try {
    if (FAST && set) {
      const { requireOclifFromPack } = await import('./startup-pack.js');
      const core = requireOclifFromPack(ROOT);
      if (core) return core;
    }
    return await import('@oclif/core');
  } finally {
    if (set) delete process.env.OCLIF_DISABLE_ENGINE_WARNING;
  }
}

let handled = false;
const version = FAST ? versionLine() : undefined;
if (version !== undefined) {
  process.stdout.write(`${version}\n`);
  handled = true;
}
if (!handled && argv[0] === 'run' && process.env.AIONCTL_DAEMON !== 'off') {
  let fast;
  try {
    fast = await import('../dist/src/lib/daemon/fast-run.js');
  } catch {
    fast = undefined; // not built: oclif reports it
  }
  if (fast) {
    const code = await fast.fastRun(argv.slice(1), process.env, process.cwd(), {
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
if (!handled && FAST && LITE.has(argv[0])) {
  let lite;
  try {
    lite = await import('../dist/src/lib/cli/lite.js');
  } catch {
    lite = undefined; // not built: oclif reports it
  }
  if (lite) {
    const pkg = pjson();
    handled = await lite.runLite(argv[0], argv.slice(1), {
      bin: pkg.oclif?.bin ?? pkg.name,
      version: pkg.version,
      env: process.env,
      stdout: process.stdout,
      stderr: process.stderr,
      exit: (code) => process.exit(code),
    });
  }
}
if (!handled) {
  const { execute, Plugin } = await importOclif();
  if (FAST && HOT.has(argv[0])) {
    // The root plugin alone (what oclif's loadRoot builds), given to oclif as the complete plugin list.
    let root = new Plugin({ isRoot: true, pjson: pjson(), root: ROOT });
    try {
      await root.load();
    } catch {
      root = undefined; // e.g. no manifest: oclif's own loading reports it
    }
    if (root) await execute({ args: argv, loadOptions: { root: ROOT, plugins: new Map([[root.name, root]]) } });
    else await execute({ dir: import.meta.url });
  } else {
    await execute({ dir: import.meta.url });
  }
}
