import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Env } from '../env/index.js';

/** Where aionctl keeps its files. All absolute. */
export interface AionPaths {
  /** User configuration (`config.yaml`, docker-style `auth.json` falls back to ~/.docker). */
  config: string;
  /** Disposable caches (verified-digest cache, registry cache). */
  cache: string;
  /** Durable data: the local OCI store lives in `data/store`. */
  data: string;
  /** The local OCI image layout used as the embedded default registry. */
  store: string;
  /** Sockets and pid files, private to the user. */
  runtime: string;
}

export type { Env };

/**
 * XDG base directories, or everything under one root when AIONCTL_HOME is set (tests and users isolate a whole
 * installation with one variable). Pure: reads only the env object it is given.
 */
export function resolvePaths(env: Env = process.env): AionPaths {
  const root = env.AIONCTL_HOME;
  if (root) {
    return {
      config: join(root, 'config'),
      cache: join(root, 'cache'),
      data: join(root, 'data'),
      store: join(root, 'data', 'store'),
      runtime: join(root, 'run'),
    };
  }
  const home = env.HOME || homedir();
  const config = join(env.XDG_CONFIG_HOME || join(home, '.config'), 'aionctl');
  const cache = join(env.XDG_CACHE_HOME || join(home, '.cache'), 'aionctl');
  const data = join(env.XDG_DATA_HOME || join(home, '.local', 'share'), 'aionctl');
  // XDG_RUNTIME_DIR is per-user and 0700; without it fall back to a per-uid dir under the temp dir.
  const uid = typeof process.getuid === 'function' ? process.getuid() : 'user';
  const runtime = env.XDG_RUNTIME_DIR ? join(env.XDG_RUNTIME_DIR, 'aionctl') : join(tmpdir(), `aionctl-${uid}`);
  return { config, cache, data, store: join(data, 'store'), runtime };
}
