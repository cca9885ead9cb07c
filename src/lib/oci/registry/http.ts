/**
 * The HTTP layer under the registry client, on undici: authentication (anonymous, basic, bearer challenge with a
 * token cache per host + scope set), retries with backoff (408, 429 with Retry-After, 5xx, connection resets),
 * redirects followed by hand so `Authorization` never crosses to another origin, and network failures mapped to
 * NE errors. Callers get the raw response and decide what a status means.
 */
import type { Readable } from 'node:stream';
import { Agent, type Dispatcher, request } from 'undici';
import { AionError } from '../../errors/index.js';
import { type Challenge, parseChallenges, parseRetryAfter } from './challenge.js';
import type { Credential } from './credentials.js';

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
const RETRY_STATUS = (s: number) => s === 408 || s === 429 || (s >= 500 && s !== 501 && s !== 505);
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
  private readonly dispatcher: Agent;
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
    this.dispatcher = new Agent({
      connect: { rejectUnauthorized: !options.insecure },
      keepAliveTimeout: 10_000,
      connections: 16,
    });
    this.credentials = options.credentials ?? (async () => undefined);
    this.maxRetries = options.maxRetries ?? 4;
    this.retryBaseMs = options.retryBaseMs ?? 200;
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  /** Sends with auth, redirects and retries. Returns the final response (any status): the caller maps errors. */
  async send(req: HttpRequest): Promise<HttpResponse> {
    const host = new URL(req.url).host;
    let scopes = normaliseScopes(req.scopes);
    let authRetried = false;
    for (let attempt = 0; ; attempt++) {
      let response: HttpResponse;
      try {
        response = await this.follow(req, await this.authorization(host, scopes));
      } catch (err) {
        if (err instanceof AionError) throw err;
        if (RETRY_NETWORK.has(errorCode(err)) && attempt < this.maxRetries) {
          await sleep(this.backoff(attempt));
          continue;
        }
        throw networkError(err, req.url);
      }
      this.collectWarnings(response);
      if (response.status === 401 && !authRetried) {
        authRetried = true;
        const challenges = parseChallenges(response.headers['www-authenticate']);
        // A cached token that earned a 401 is stale or too narrow: forget it, and ask for what was challenged too.
        this.tokens.delete(this.tokenKey(host, scopes));
        const challenged = challenges.find((c) => c.scheme === 'bearer')?.params.scope?.split(' ') ?? [];
        scopes = normaliseScopes([...scopes, ...challenged]);
        if (await this.learnChallenge(host, challenges)) {
          await response.body.dump();
          attempt--;
          continue;
        }
        return response;
      }
      if (RETRY_STATUS(response.status) && attempt < this.maxRetries) {
        const wait = parseRetryAfter(response.headers['retry-after']);
        await response.body.dump();
        await sleep(Math.min(wait ?? this.backoff(attempt), 30_000));
        continue;
      }
      return response;
    }
  }

  private backoff(attempt: number): number {
    const base = Math.min(this.retryBaseMs * 2 ** attempt, 3000);
    return base / 2 + Math.random() * (base / 2);
  }

  /** One request plus its redirects; `Authorization` only goes to the origin it was meant for. */
  private async follow(req: HttpRequest, authorization: string | undefined): Promise<HttpResponse> {
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
        headersTimeout: 60_000,
        bodyTimeout: 120_000,
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
      const text = (m[1] ?? '').replace(/\\(.)/g, '$1');
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
  private async authorization(host: string, scopes: string[]): Promise<string | undefined> {
    const known = this.hostAuth.get(host);
    if (!known) return undefined;
    if (known.scheme === 'basic') {
      const cred = await this.credentials(host);
      return cred?.username !== undefined ? basicHeader(cred.username, cred.password ?? '') : undefined;
    }
    const key = this.tokenKey(host, scopes);
    const cached = this.tokens.get(key);
    if (cached && cached.expiresAt > Date.now()) return `Bearer ${cached.token}`;
    const token = await this.fetchToken(host, known, scopes);
    return token ? `Bearer ${token}` : undefined;
  }

  /** Records how a host authenticates; true when a retry with credentials/token makes sense. */
  private async learnChallenge(host: string, challenges: Challenge[]): Promise<boolean> {
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    if (bearer?.params.realm) {
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
  ): Promise<string | undefined> {
    const cred = await this.credentials(host);
    if (cred?.registryToken) return cred.registryToken;
    const realm = new URL(auth.realm);
    this.tokenRequests++;
    let res: Dispatcher.ResponseData;
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
        });
      } else {
        if (auth.service) realm.searchParams.set('service', auth.service);
        for (const scope of scopes) realm.searchParams.append('scope', scope);
        const headers: Record<string, string> = {};
        if (cred?.username !== undefined) headers.authorization = basicHeader(cred.username, cred.password ?? '');
        res = await request(realm, { method: 'GET', headers, dispatcher: this.dispatcher });
      }
    } catch (err) {
      const mapped = networkError(err, realm.toString());
      throw new AionError('NE005', `token service ${realm.host} failed: ${mapped.message}`, {
        cause: err,
        hint: mapped.hint,
      });
    }
    const text = await res.body.text();
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
