#!/usr/bin/env node
// Build step (issue 15): records the CommonJS module tree that `require('@oclif/core')` loads (~150 files in ~30
// packages) into dist/startup-pack.txt, so bin/run.js can load it without Node's per-file resolution (stat calls,
// package.json and exports lookups) and per-file reads: about 40% of oclif's load time.
//
// Format: line 1 is a JSON header {version, node, root, files: [{path, size, mtimeMs, start, end}], edges}, then
// the sources concatenated; start/end are string offsets into what follows the first newline. Paths are relative
// to the repository root. bin/startup-pack.js checks every file's size and mtime before trusting the pack and
// ignores it on any mismatch (npm install, another Node version, a moved tree).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const OUT = join(ROOT, 'dist', 'startup-pack.txt');

// The recorder runs in a child so that this script's own modules are not part of the tree.
const recorder = `
const Module = require('node:module');
const { createRequire } = Module;
const edges = {};
const files = [];
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, parent, isMain, options) {
  const resolved = resolve.call(this, request, parent, isMain, options);
  if (parent && parent.filename && options === undefined && !Module.isBuiltin(request)) {
    edges[parent.filename + '\\0' + request] = resolved;
  }
  return resolved;
};
const loadJs = Module._extensions['.js'];
Module._extensions['.js'] = function (module, filename) {
  files.push(filename);
  return loadJs.call(this, module, filename);
};
createRequire(${JSON.stringify(join(ROOT, 'bin', 'run.js'))})('@oclif/core');
process.stdout.write(JSON.stringify({ edges, files }));
`;
const child = spawnSync(process.execPath, ['-e', recorder], {
  cwd: ROOT,
  encoding: 'utf8',
  env: { ...process.env, OCLIF_DISABLE_ENGINE_WARNING: 'true' }, // what bin/run.js sets when the check passes
  maxBuffer: 64 * 1024 * 1024,
});
if (child.status !== 0) {
  rmSync(OUT, { force: true });
  console.error(
    `gen-startup-pack: recording failed (no pack; start-up is slower, nothing else changes)\n${child.stderr}`,
  );
  process.exit(0);
}
const { edges, files } = JSON.parse(child.stdout);
const rel = (path) => relative(ROOT, path);
let body = '';
const entries = [];
for (const file of files) {
  const source = readFileSync(file, 'utf8');
  const st = statSync(file);
  entries.push({
    path: rel(file),
    size: st.size,
    mtimeMs: st.mtimeMs,
    start: body.length,
    end: body.length + source.length,
  });
  body += source;
}
const relEdges = {};
for (const [key, target] of Object.entries(edges)) {
  const [parent, request] = key.split('\0');
  relEdges[`${rel(parent)}\0${request}`] = rel(target);
}
const header = { version: 1, node: process.version, files: entries, edges: relEdges };
mkdirSync(dirname(OUT), { recursive: true });
const tmp = `${OUT}.${process.pid}.tmp`;
writeFileSync(tmp, `${JSON.stringify(header)}\n${body}`);
renameSync(tmp, OUT);
console.log(`gen-startup-pack: ${entries.length} modules, ${Object.keys(relEdges).length} edges -> ${rel(OUT)}`);
