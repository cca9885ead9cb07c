/** Turns a parsed reference into the Target it names: an OCI layout, the default store, or a registry. */
import type { Env } from '../config/index.js';
import { LayoutTarget } from './layout.js';
import type { ConnectOptions } from './registry/index.js';
import { openStore } from './store.js';
import type { ArtifactReference, Target } from './types.js';

export interface OpenTargetOptions {
  env?: Env;
  /** How to reach a registry (TLS, chunking, mounts); only used for registry references. */
  registry?: ConnectOptions;
}

export async function openTarget(ref: ArtifactReference, options: OpenTargetOptions = {}): Promise<Target> {
  switch (ref.kind) {
    case 'layout':
      return new LayoutTarget(ref.path);
    case 'store':
      return openStore(ref.repository, options.env ?? process.env);
    case 'registry': {
      // Loaded on demand: the HTTP client (undici) costs ~200 ms of startup that store/layout commands skip.
      const { connectRegistry } = await import('./registry/index.js');
      return connectRegistry(ref, { env: options.env ?? process.env, ...options.registry });
    }
  }
}
