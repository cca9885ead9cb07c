// `node --import <dist>/test/helpers/module-trace.js ...` with AIONCTL_TRACE_MODULES=<file>: every module the
// process loads (ESM through a resolve hook, CommonJS from the require cache at exit) is appended to <file>, one
// path per line. Tests use it to prove a command does not load ink, ajv, yaml, undici or sigstore when it does
// not need them.
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { fileURLToPath } from 'node:url';

const file = process.env.AIONCTL_TRACE_MODULES;
if (file) {
  register(new URL('./module-trace-hooks.js', import.meta.url), { data: { file } });
  const cache = createRequire(import.meta.url).cache;
  process.on('exit', () => {
    appendFileSync(file, Object.keys(cache).join('\n') + '\n');
  });
}

/** The loaded-module list written by a traced process: absolute paths (file: URLs converted), de-duplicated. */
export function parseTrace(text: string): string[] {
  const paths = new Set<string>();
  for (const line of text.split('\n')) {
    if (!line) continue;
    paths.add(line.startsWith('file:') ? fileURLToPath(line) : line);
  }
  return [...paths];
}

/** npm package names (`@scope/name` or `name`) among traced paths under node_modules. */
export function tracedPackages(paths: string[]): Set<string> {
  const names = new Set<string>();
  for (const path of paths) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path.slice(path.lastIndexOf('node_modules/')));
    if (m?.[1]) names.add(m[1]);
  }
  return names;
}
