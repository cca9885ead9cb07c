/** The OCI registry client: a registry repository as a `Target`, auth from Docker's config, tag presentation. */
import type { RegistryReference } from '../reference.js';
import { type Credential, type Env, getCredential } from './credentials.js';
import { RegistryHttp } from './http.js';
import { RegistryTarget, type RegistryTargetOptions } from './target.js';

export { type Challenge, parseChallenges, parseNextLink, parseRetryAfter } from './challenge.js';
export {
  type Credential,
  type DockerConfig,
  dockerConfigPath,
  eraseCredential,
  getCredential,
  loadDockerConfig,
  serverKeys,
  storeCredential,
} from './credentials.js';
export { registryError } from './errors.js';
export {
  basicHeader,
  type CredentialSource,
  Deadline,
  MAX_ERROR_BYTES,
  MAX_TOKEN_BYTES,
  normaliseScopes,
  RegistryHttp,
  type RegistryHttpOptions,
} from './http.js';
export { isReferrerTag, presentTags, type TagListOptions, type TagSort, tagVersion } from './tags.js';
export {
  DEFAULT_CHUNK_SIZE,
  DEFAULT_MONOLITHIC_MAX,
  MANIFEST_ACCEPT,
  MAX_LIST_PAGE_BYTES,
  MAX_PAGES,
  MAX_REFERRERS,
  MAX_TAGS,
  RegistryTarget,
  type RegistryTargetOptions,
} from './target.js';

export interface ConnectOptions extends RegistryTargetOptions {
  /** TLS without certificate verification. */
  insecure?: boolean;
  env?: Env;
  /** Use these credentials instead of the Docker config (login verifies before storing). */
  credential?: Credential;
  /** Anonymous: never read stored credentials. */
  anonymous?: boolean;
  onWarning?: (message: string) => void;
  maxRetries?: number;
  retryBaseMs?: number;
  /** See RegistryHttpOptions: connect timeout, idle timeout, per-request deadline (base + size at a minimum rate). */
  connectTimeoutMs?: number;
  idleTimeoutMs?: number;
  deadlineBaseMs?: number;
  minBytesPerSecond?: number;
  /** Cancels every request in flight. */
  signal?: AbortSignal;
}

/** Opens a registry repository as a Target, credentials from Docker's config.json (looked up once per host). */
export function connectRegistry(reference: RegistryReference, options: ConnectOptions = {}): RegistryTarget {
  const cache = new Map<string, Promise<Credential | undefined>>();
  // No ambient environment: callers pass theirs (the daemon serves clients with different ones).
  const env = options.env ?? {};
  const http = new RegistryHttp({
    insecure: options.insecure,
    onWarning: options.onWarning,
    maxRetries: options.maxRetries ?? numberFromEnv(env.AIONCTL_REGISTRY_RETRIES),
    retryBaseMs: options.retryBaseMs ?? numberFromEnv(env.AIONCTL_REGISTRY_RETRY_BASE_MS),
    connectTimeoutMs: options.connectTimeoutMs,
    idleTimeoutMs: options.idleTimeoutMs,
    deadlineBaseMs: options.deadlineBaseMs,
    minBytesPerSecond: options.minBytesPerSecond,
    signal: options.signal,
    credentials: (host) => {
      if (options.credential) return Promise.resolve(options.credential);
      if (options.anonymous) return Promise.resolve(undefined);
      // Credentials are stored under the reference's registry name (docker.io, not registry-1.docker.io).
      const key = host === new URL(`http://${reference.registry}`).host ? reference.registry : host;
      let pending = cache.get(key);
      if (!pending) {
        pending = getCredential(key, env);
        cache.set(key, pending);
      }
      return pending;
    },
  });
  return new RegistryTarget(reference, http, options);
}

function numberFromEnv(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}
