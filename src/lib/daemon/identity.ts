import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildIdentity } from './paths.js';

/** dist/src (the compiled tree) and the package.json of this install. */
export const DIST_SRC = fileURLToPath(new URL('../../', import.meta.url));
const PACKAGE_JSON = fileURLToPath(new URL('../../../../package.json', import.meta.url));
/** The daemon entry the client spawns. */
export const DAEMON_MAIN = fileURLToPath(new URL('../../daemon/main.js', import.meta.url));

let cached: { version: string; buildId: string } | undefined;

/** This install's version and build id (what a daemon must match to be used). */
export function selfIdentity(): { version: string; buildId: string } {
  if (!cached) {
    const version = (JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')) as { version: string }).version;
    cached = { version, buildId: buildIdentity(DIST_SRC, version) };
  }
  return cached;
}
