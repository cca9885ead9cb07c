/**
 * The HTTP layer under the registry client, on undici: authentication (anonymous, basic, bearer challenge with a
 * token cache per host + scope set), retries with backoff (408, 429 with Retry-After, 5xx, connection resets),
 * redirects followed by hand so `Authorization` never crosses to another origin, and network failures mapped to
 * NE errors. Callers get the raw response and decide what a status means.
 */
import { createRequire } from 'node:module';
import type { Readable } from 'node:stream';
import type { Agent as UndiciAgent, Dispatcher } from 'undici';
import { AionError } from '../../errors/index.js';
import { sanitizeForTerminal } from '../../text/index.js';
import { type Challenge, parseChallenges, parseRetryAfter } from './challenge.js';
import type { Credential } from './credentials.js';

// undici's Agent and its request API, without undici's index: the index also loads fetch, WebSocket, the cache,
// mocks and more (110 modules; these two need 25; ~3x less load time), which every push and pull paid for at
// start-up. The request function is the one undici's own `request(url, opts)` wraps (it dispatches through
// `this`). These are internal paths (undici has no `exports` map to forbid them): should a later undici move them,
// the public index is loaded instead, so an upgrade costs start-up time, never a broken client.
type ApiRequest = (this: Dispatcher, options: Dispatcher.RequestOptions) => Promise<Dispatcher.ResponseData>;
const undiciRequire = createRequire(import.meta.url);
const { Agent, apiRequest } = ((): { Agent: typeof UndiciAgent; apiRequest: ApiRequest } => {
  try {
    const agent = undiciRequire('undici/lib/dispatcher/agent.js') as unknown;
    const api = undiciRequire('undici/lib/api/api-request.js') as unknown;
    if (typeof agent === 'function' && typeof api === 'function')
      return { Agent: agent as typeof UndiciAgent, apiRequest: api as ApiRequest };
  } catch {
    // moved or renamed: the index below
  }
  const undici = undiciRequire('undici') as typeof import('undici');
  return { Agent: undici.Agent, apiRequest: undici.Dispatcher.prototype.request as ApiRequest };
})();

interface RequestOptions extends Omit<Dispatcher.RequestOptions, 'origin' | 'path' | 'method'> {
  method: Dispatcher.HttpMethod;
  dispatcher: Dispatcher;
}

/** undici's `request(url, options)`: origin and path from the URL, sent through `options.dispatcher`. */
function request(url: string | URL, options: RequestOptions): Promise<Dispatcher.ResponseData> {
  const parsed = typeof url === 'string' ? new URL(url) : url;
  const { dispatcher, ...rest } = options;
  return apiRequest.call(dispatcher, {
    ...rest,
    origin: parsed.origin,
    path: `${parsed.pathname}${parsed.search}`,
  });
}

export type CredentialSource = (host: string) => Promise<Credential | undefined>;

export interface RegistryHttpOptions {
  /** TLS without certificate verification (`--insecure`). */
  insecure?: boolean;
  credentials?: CredentialSource;
  /** Retries after the first attempt (default 4, as oras-go's 5 tries). */
  maxRetries?: number;
  /** First backoff in ms (doubles, capped at 3 s; default 200). */
  retryBaseMs?: number;
  /** Called once per distinct `Warning: 299` text from a registry. */
  onWarning?: (message: string) => void;
  userAgent?: string;
  /** TCP + TLS connect timeout in ms (default 30 s). */
  connectTimeoutMs?: number;
  /** Longest silence while waiting for headers or between body bytes, in ms (default 60 s). */
  idleTimeoutMs?: number;
  /** Every request (retries included) must finish within this, plus `size / minBytesPerSecond` (default 120 s). */
  deadlineBaseMs?: number;
  /** The slowest transfer rate a deadline allows for (default 16 KiB/s). */
  minBytesPerSecond?: number;
  /** Cancels everything in flight (the command's Ctrl-C). */
  signal?: AbortSignal;
}

/** A request body that can be sent again on retry: bytes, or a factory producing a fresh stream. */
export type RequestBody = Uint8Array | (() => Readable);

export interface HttpRequest {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  body?: RequestBody;
  /** Token scopes, e.g. `repository:team/agent:pull`. */
  scopes: string[];
  /** false: no retry on 5xx or a dropped connection (the caller recovers, e.g. a streamed upload chunk). */
  retry?: boolean;
  /** Overall deadline for the request and the reading of its body (default: `deadline()`, for small bodies). */
  deadline?: Deadline;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | undefined>;
  body: Dispatcher.ResponseData['body'];
  /** The URL that answered (after redirects). */
  url: string;
}

const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
export const RETRY_STATUS = (s: number) => s === 408 || s === 429 || (s >= 500 && s !== 501 && s !== 505);
const RETRY_NETWORK = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);
const TLS_ERROR = /CERT|TLS|SSL|EPROTO|SELF_SIGNED|UNABLE_TO_VERIFY/;
/** A token response is a small JSON document; anything bigger is refused before it is parsed. */
export const MAX_TOKEN_BYTES = 1024 * 1024;
/** Error bodies are read for their message only. */
export const MAX_ERROR_BYTES = 64 * 1024;

/** A deadline signal that says what it was for when it fires (NE003, not an anonymous AbortError). */
export class Deadline {
  readonly signal: AbortSignal;
  readonly ms: number;
  constructor(ms: number, parent?: AbortSignal) {
    this.ms = ms;
    const own = AbortSignal.timeout(ms);
    this.signal = parent ? AbortSignal.any([own, parent]) : own;
  }
  /** True when this deadline (not the caller's signal) ended the request. */
  get expired(): boolean {
    return this.signal.aborted && (this.signal.reason as { name?: string } | undefined)?.name === 'TimeoutError';
  }
}

export function deadlineError(url: string, ms: number, cause?: unknown): AionError {
  return new AionError('NE003', `request to ${new URL(url).host} did not finish within ${Math.ceil(ms / 1000)} s`, {
    cause,
    hint: 'the registry or the network is too slow; retry later',
  });
}

/**
 * Reads a whole response body, refusing more than `limit` bytes, declared or sent: RG040 by default, or the error
 * `tooBig` makes (given the declared size when that was over).
 */
export async function readCapped(
  body: AsyncIterable<unknown> & { destroy(): unknown; dump?: () => Promise<void> },
  declared: string | undefined,
  limit: number,
  what: string,
  tooBig: (size?: number) => AionError = (size) =>
    new AionError('RG040', `${what} is ${size === undefined ? 'over' : `${size} bytes, over`} the ${limit}-byte cap`, {
      hint: 'the registry (or a proxy) sent far more than such a response ever needs; refusing it',
    }),
): Promise<Buffer> {
  const size = Number(declared ?? Number.NaN);
  if (size > limit) {
    body.destroy();
    throw tooBig(size);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    const piece = chunk as Buffer;
    total += piece.length;
    if (total > limit) {
      body.destroy();
      throw tooBig();
    }
    chunks.push(piece);
  }
  return Buffer.concat(chunks);
}

type TokenEntry = { token: string; expiresAt: number };
type HostAuth = { scheme: 'basic' } | { scheme: 'bearer'; realm: string; service?: string };

function flatHeaders(raw: Record<string, string | string[] | undefined>): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(raw)) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

function errorCode(err: unknown): string {
  let current: unknown = err;
  for (let depth = 0; current && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'UND_ERR') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return '';
}

export function networkError(err: unknown, url: string): AionError {
  const code = errorCode(err);
  const host = new URL(url).host;
  const message = err instanceof Error ? err.message : String(err);
  if (TLS_ERROR.test(code) || /certificate|tls|ssl|wrong version number/i.test(message)) {
    return new AionError('NE002', `TLS with ${host} failed: ${code || message}`, {
      cause: err,
      hint: 'use --plain-http if the registry speaks HTTP, or --insecure to skip certificate checks (unsafe)',
    });
  }
  if (/TIMEOUT/.test(code)) {
    return new AionError('NE003', `request to ${host} timed out (${code})`, { cause: err, hint: 'retry later' });
  }
  return new AionError('NE001', `cannot reach ${host}: ${code || message}`, {
    cause: err,
    hint: 'check the host and port, that the registry is running, and whether it speaks HTTPS or plain HTTP (--plain-http)',
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class RegistryHttp {
  private readonly dispatcher: UndiciAgent;
  private readonly credentials: CredentialSource;
  private readonly maxRetries: number;
  private readonly retryBaseMs: number;
  private readonly hostAuth = new Map<string, HostAuth>();
  private readonly tokens = new Map<string, TokenEntry>();
  private readonly warned = new Set<string>();
  private readonly options: RegistryHttpOptions;
  /** Token fetches made (for tests of the cache). */
  tokenRequests = 0;

  constructor(options: RegistryHttpOptions = {}) {
    this.options = options;
    const idle = options.idleTimeoutMs ?? 60_000;
    this.dispatcher = new Agent({
      connect: { rejectUnauthorized: !options.insecure, timeout: options.connectTimeoutMs ?? 30_000 },
      keepAliveTimeout: 10_000,
      connections: 16,
      headersTimeout: idle,
      bodyTimeout: idle,
    });
    this.credentials = options.credentials ?? (async () => undefined);
    this.maxRetries = options.maxRetries ?? 4;
    this.retryBaseMs = options.retryBaseMs ?? 200;
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  /** Retries after the first attempt, for callers that recover on their own (upload resumes). */
  get retries(): number {
    return this.maxRetries;
  }

  /** A deadline for a request moving `size` bytes: the base, plus the time the slowest allowed rate needs. */
  deadline(size = 0): Deadline {
    const base = this.options.deadlineBaseMs ?? 120_000;
    const rate = this.options.minBytesPerSecond ?? 16 * 1024;
    return new Deadline(base + Math.ceil((size / rate) * 1000), this.options.signal);
  }

  /** Sends with auth, redirects and retries. Returns the final response (any status): the caller maps errors. */
  async send(request: HttpRequest): Promise<HttpResponse> {
    const deadline = request.deadline ?? this.deadline();
    const req = { ...request, signal: deadline.signal };
    const host = new URL(req.url).host;
    const maxRetries = req.retry === false ? 0 : this.maxRetries;
    let scopes = normaliseScopes(req.scopes);
    let authRetried = false;
    for (let attempt = 0; ; attempt++) {
      let response: HttpResponse;
      try {
        response = await this.follow(req, await this.authorization(host, scopes, req.signal));
      } catch (err) {
        if (err instanceof AionError) throw err;
        if (deadline.expired) throw deadlineError(req.url, deadline.ms, err);
        if (deadline.signal.aborted) throw err;
        if (RETRY_NETWORK.has(errorCode(err)) && attempt < maxRetries) {
          await sleep(this.backoff(attempt));
          continue;
        }
        throw networkError(err, req.url);
      }
      this.collectWarnings(response);
      // A challenge counts only from the registry that was asked: a redirect target (storage, a CDN, anyone the
      // registry points at) must never decide where this registry's credentials go.
      const sameOrigin = new URL(response.url).origin === new URL(req.url).origin;
      if (response.status === 401 && !authRetried && sameOrigin) {
        authRetried = true;
        const challenges = parseChallenges(response.headers['www-authenticate']);
        // A cached token that earned a 401 is stale or too narrow: forget it, and ask for what was challenged too.
        this.tokens.delete(this.tokenKey(host, scopes));
        const challenged = challenges.find((c) => c.scheme === 'bearer')?.params.scope?.split(' ') ?? [];
        scopes = normaliseScopes([...scopes, ...challenged]);
        if (await this.learnChallenge(req.url, challenges)) {
          await response.body.dump();
          attempt--;
          continue;
        }
        return response;
      }
      if (RETRY_STATUS(response.status) && attempt < maxRetries) {
        const wait = parseRetryAfter(response.headers['retry-after']);
        await response.body.dump();
        await sleep(Math.min(wait ?? this.backoff(attempt), 30_000));
        continue;
      }
      return response;
    }
  }

  /** The wait before retry number `attempt + 1` (exponential with jitter, capped at 3 s). */
  backoffMs(attempt: number): number {
    return this.backoff(attempt);
  }

  private backoff(attempt: number): number {
    const base = Math.min(this.retryBaseMs * 2 ** attempt, 3000);
    return base / 2 + Math.random() * (base / 2);
  }

  /** One request plus its redirects; `Authorization` only goes to the origin it was meant for. */
  private async follow(
    req: HttpRequest & { signal: AbortSignal },
    authorization: string | undefined,
  ): Promise<HttpResponse> {
    let url = req.url;
    let method = req.method;
    let body = req.body;
    const origin = new URL(url).origin;
    for (let hop = 0; ; hop++) {
      const headers: Record<string, string> = {
        'user-agent': this.options.userAgent ?? 'aionctl',
        ...(req.headers ?? {}),
      };
      if (authorization && new URL(url).origin === origin) headers.authorization = authorization;
      const payload = typeof body === 'function' ? body() : body;
      if (payload instanceof Uint8Array) headers['content-length'] = String(payload.length);
      const res = await request(url, {
        method,
        headers,
        body: payload,
        dispatcher: this.dispatcher,
        signal: req.signal,
      });
      const response: HttpResponse = { status: res.statusCode, headers: flatHeaders(res.headers), body: res.body, url };
      const location = response.headers.location;
      // Upload endpoints answer 201/202 with Location: only real redirects are followed.
      if (!REDIRECTS.has(response.status) || !location) return response;
      await res.body.dump();
      if (hop >= MAX_REDIRECTS) {
        throw new AionError('NE004', `too many redirects from ${req.url}`, { hint: 'the registry is misconfigured' });
      }
      const next = new URL(location, url);
      if (next.protocol !== 'http:' && next.protocol !== 'https:') {
        throw new AionError('NE004', `refusing redirect to ${next.protocol} URL`, {
          hint: 'the registry is misconfigured',
        });
      }
      url = next.toString();
      if (response.status === 303) {
        method = 'GET';
        body = undefined;
      }
    }
  }

  private collectWarnings(response: HttpResponse): void {
    const header = response.headers.warning;
    if (!header || !this.options.onWarning) return;
    for (const m of header.matchAll(/299\s+\S+\s+"((?:[^"\\]|\\.)*)"/g)) {
      const text = sanitizeForTerminal((m[1] ?? '').replace(/\\(.)/g, '$1'));
      if (!this.warned.has(text)) {
        this.warned.add(text);
        this.options.onWarning(text);
      }
    }
  }

  private tokenKey(host: string, scopes: string[]): string {
    return `${host} ${[...scopes].sort().join(' ')}`;
  }

  /** The Authorization header to send up front (cached bearer token, or basic once the host asked for it). */
  private async authorization(host: string, scopes: string[], signal?: AbortSignal): Promise<string | undefined> {
    const known = this.hostAuth.get(host);
    if (!known) return undefined;
    if (known.scheme === 'basic') {
      const cred = await this.credentials(host);
      return cred?.username !== undefined ? basicHeader(cred.username, cred.password ?? '') : undefined;
    }
    const key = this.tokenKey(host, scopes);
    const cached = this.tokens.get(key);
    if (cached && cached.expiresAt > Date.now()) return `Bearer ${cached.token}`;
    const token = await this.fetchToken(host, known, scopes, signal);
    return token ? `Bearer ${token}` : undefined;
  }

  /** Records how a host authenticates; true when a retry with credentials/token makes sense. */
  private async learnChallenge(url: string, challenges: Challenge[]): Promise<boolean> {
    const { host, protocol } = new URL(url);
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    if (bearer?.params.realm) {
      let realm: URL;
      try {
        realm = new URL(bearer.params.realm);
      } catch {
        throw new AionError('NE010', `${host} named a token service that is not a URL`, {
          hint: 'the registry is misconfigured',
        });
      }
      if (realm.protocol !== 'https:' && realm.protocol !== 'http:') {
        throw new AionError('NE010', `${host} named a ${realm.protocol} token service; only HTTP(S) is used`, {
          hint: 'the registry is misconfigured',
        });
      }
      if (protocol === 'https:' && realm.protocol === 'http:') {
        throw new AionError('NE010', `${host} (HTTPS) sends credentials to a plain-HTTP token service ${realm.host}`, {
          hint: 'refused: anyone on the path could read them; the registry must name an https:// realm',
        });
      }
      this.hostAuth.set(host, { scheme: 'bearer', realm: bearer.params.realm, service: bearer.params.service });
      return true;
    }
    if (challenges.some((c) => c.scheme === 'basic')) {
      this.hostAuth.set(host, { scheme: 'basic' });
      const cred = await this.credentials(host);
      return cred?.username !== undefined;
    }
    return false;
  }

  /** distribution's token flow: GET realm?service&scope (basic auth when we have credentials), or the OAuth2 POST. */
  private async fetchToken(
    host: string,
    auth: Extract<HostAuth, { scheme: 'bearer' }>,
    scopes: string[],
    parent?: AbortSignal,
  ): Promise<string | undefined> {
    const cred = await this.credentials(host);
    if (cred?.registryToken) return cred.registryToken;
    const realm = new URL(auth.realm);
    this.tokenRequests++;
    // Its own deadline (a token is small), inside the caller's: a token service that trickles cannot hang a pull.
    const deadline = this.deadline(MAX_TOKEN_BYTES);
    const signal = parent ? AbortSignal.any([deadline.signal, parent]) : deadline.signal;
    let res: Dispatcher.ResponseData;
    let text: string;
    try {
      if (cred?.identityToken) {
        const form = new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: cred.identityToken,
          client_id: 'aionctl',
          ...(auth.service ? { service: auth.service } : {}),
        });
        if (scopes.length) form.set('scope', scopes.join(' '));
        res = await request(realm, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: form.toString(),
          dispatcher: this.dispatcher,
          signal,
        });
      } else {
        if (auth.service) realm.searchParams.set('service', auth.service);
        for (const scope of scopes) realm.searchParams.append('scope', scope);
        const headers: Record<string, string> = {};
        if (cred?.username !== undefined) headers.authorization = basicHeader(cred.username, cred.password ?? '');
        res = await request(realm, { method: 'GET', headers, dispatcher: this.dispatcher, signal });
      }
      text = (
        await readCapped(
          res.body,
          res.headers['content-length'] as string | undefined,
          MAX_TOKEN_BYTES,
          'token response',
        )
      ).toString('utf8');
    } catch (err) {
      if (err instanceof AionError) throw err;
      if (deadline.expired) throw deadlineError(realm.toString(), deadline.ms, err);
      if (signal.aborted) throw err;
      const mapped = networkError(err, realm.toString());
      throw new AionError('NE005', `token service ${realm.host} failed: ${mapped.message}`, {
        cause: err,
        hint: mapped.hint,
      });
    }
    if (res.statusCode === 401 || res.statusCode === 403) {
      throw new AionError('RG006', `${host} rejected the credentials (token service answered ${res.statusCode})`, {
        hint: `log in again with \`aionctl login ${host}\``,
      });
    }
    if (res.statusCode !== 200) {
      throw new AionError('NE005', `token service ${realm.host} answered ${res.statusCode}`, {
        hint: 'retry later; the registry auth service is failing',
      });
    }
    let body: { token?: string; access_token?: string; expires_in?: number };
    try {
      body = JSON.parse(text) as typeof body;
    } catch (err) {
      throw new AionError('NE005', `token service ${realm.host} returned invalid JSON`, { cause: err });
    }
    const token = body.token || body.access_token;
    if (!token) throw new AionError('NE005', `token service ${realm.host} returned no token`);
    const lifetime = Math.max((body.expires_in ?? 60) - 10, 5) * 1000;
    this.tokens.set(this.tokenKey(host, scopes), { token, expiresAt: Date.now() + lifetime });
    return token;
  }
}

/**
 * Merges scopes per resource (`repository:a:pull` + `repository:a:pull,push` = `repository:a:pull,push`), sorted,
 * so the same access always maps to the same token-cache key and token request.
 */
export function normaliseScopes(scopes: string[]): string[] {
  const byResource = new Map<string, Set<string>>();
  for (const scope of scopes) {
    const colon = scope.lastIndexOf(':');
    if (!scope || colon <= 0) continue;
    const resource = scope.slice(0, colon);
    const actions = byResource.get(resource) ?? new Set<string>();
    for (const action of scope.slice(colon + 1).split(',')) if (action) actions.add(action);
    byResource.set(resource, actions);
  }
  return [...byResource.entries()].map(([resource, actions]) => `${resource}:${[...actions].sort().join(',')}`).sort();
}

export function basicHeader(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}
