// Loads @oclif/core's CommonJS tree from dist/startup-pack.txt (written by scripts/gen-startup-pack.mjs at build
// time): one read instead of ~150, and the recorded resolutions instead of Node's per-file stat and package.json
// lookups. The pack is trusted only when it was made by this Node version and every packed file still has the
// recorded size and mtime; otherwise (or on any error) this returns undefined and the caller loads oclif normally.
// The loader hooks are installed for the duration of the one require and removed afterwards.
import { readFileSync, statSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { join } from 'node:path';

/** @oclif/core's exports loaded through the pack, or undefined (no pack, stale pack). */
export function requireOclifFromPack(root, packFile = join(root, 'dist', 'startup-pack.txt')) {
  let text;
  try {
    text = readFileSync(packFile, 'utf8');
  } catch {
    return undefined;
  }
  const newline = text.indexOf('\n');
  let header;
  try {
    header = JSON.parse(text.slice(0, newline));
  } catch {
    return undefined;
  }
  if (header?.version !== 1 || header.node !== process.version || !Array.isArray(header.files)) return undefined;
  const body = text.slice(newline + 1);
  const sources = new Map();
  for (const file of header.files) {
    const path = join(root, file.path);
    const st = statSync(path, { throwIfNoEntry: false });
    if (!st || st.size !== file.size || st.mtimeMs !== file.mtimeMs) return undefined;
    sources.set(path, [file.start, file.end]);
  }
  const edges = new Map();
  for (const [key, target] of Object.entries(header.edges ?? {})) {
    const cut = key.indexOf('\0');
    edges.set(`${join(root, key.slice(0, cut))}\0${key.slice(cut + 1)}`, join(root, target));
  }

  const resolveFilename = Module._resolveFilename;
  const loadJs = Module._extensions['.js'];
  Module._resolveFilename = function (request, parent, isMain, options) {
    if (options === undefined && parent?.filename) {
      const hit = edges.get(`${parent.filename}\0${request}`);
      if (hit !== undefined) return hit;
    }
    return resolveFilename.call(this, request, parent, isMain, options);
  };
  Module._extensions['.js'] = function (module, filename) {
    const range = sources.get(filename);
    if (range === undefined) return loadJs.call(this, module, filename);
    return module._compile(body.slice(range[0], range[1]), filename);
  };
  try {
    return createRequire(join(root, 'bin', 'run.js'))('@oclif/core');
  } finally {
    Module._resolveFilename = resolveFilename;
    Module._extensions['.js'] = loadJs;
  }
}
