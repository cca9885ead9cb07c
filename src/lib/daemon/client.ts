/** A client for the daemon's API over its Unix socket (undici `Client({socketPath})`). */
import { Client, Pool } from 'undici';
import { AionError, type ErrorCode } from '../errors/index.js';
import type { DaemonStatus, Health, RunEnvelope, RunRequest } from './types.js';

export interface ApiResponse<T = unknown> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: T;
}

export class DaemonClient {
  private readonly client: Client | Pool;

  constructor(
    readonly socket: string,
    options: { connections?: number } = {},
  ) {
    const common = { socketPath: socket, pipelining: 1, connect: { timeout: 2000 }, keepAliveTimeout: 10_000 };
    // One connection for the CLI; a pool of them for concurrent callers (benches, tests, services).
    this.client =
      (options.connections ?? 1) > 1
        ? new Pool('http://aionctl', { ...common, connections: options.connections })
        : new Client('http://aionctl', common);
  }

  async request<T = unknown>(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
    signal?: AbortSignal,
  ): Promise<ApiResponse<T>> {
    let res;
    try {
      res = await this.client.request({
        method,
        path,
        headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
        signal,
      });
    } catch (err) {
      throw connectionError(err, this.socket);
    }
    let text: string;
    try {
      text = await res.body.text();
    } catch (err) {
      throw connectionError(err, this.socket);
    }
    let parsed: unknown = text;
    if (String(res.headers['content-type'] ?? '').startsWith('application/json')) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    return { status: res.statusCode, headers: res.headers, body: parsed as T };
  }

  async health(signal?: AbortSignal): Promise<Health> {
    const r = await this.request<Health>('GET', '/healthz', undefined, {}, signal);
    if (r.status !== 200) throw new AionError('EX041', `the daemon answered /healthz with ${r.status}`);
    return r.body;
  }

  async status(): Promise<DaemonStatus> {
    return (await this.request<DaemonStatus>('GET', '/v1/status')).body;
  }

  /** POST /v1/runs; an error answer (429, 503, 400...) becomes the AionError of its code. */
  async run(request: RunRequest, options: { idempotencyKey?: string; requestId?: string } = {}): Promise<RunEnvelope> {
    const headers: Record<string, string> = {};
    if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
    if (options.requestId) headers['x-request-id'] = options.requestId;
    const r = await this.request<RunEnvelope | { error: { code: string; message: string } }>(
      'POST',
      '/v1/runs',
      request,
      headers,
    );
    if (r.status !== 200) throw answerError(r);
    return r.body as RunEnvelope;
  }

  async shutdown(): Promise<void> {
    await this.request('POST', '/v1/shutdown', {});
  }

  close(): Promise<void> {
    return this.client.close();
  }

  destroy(): Promise<void> {
    return this.client.destroy();
  }
}

/** An error answer of the API as the AionError the CLI would have thrown. */
export function answerError(r: ApiResponse<unknown>): AionError {
  const e = (r.body as { error?: { code?: string; message?: string; hint?: string } })?.error;
  const code = e?.code && /^[A-Z]{2}\d{3}$/.test(e.code) ? e.code : 'EX001';
  try {
    return new AionError(code as ErrorCode, e?.message ?? `the daemon answered ${r.status}`, {
      ...(e?.hint ? { hint: e.hint } : {}),
      details: { status: r.status, retryAfter: r.headers['retry-after'] },
    });
  } catch {
    return new AionError('EX001', `${code}: ${e?.message ?? r.status}`);
  }
}

function connectionError(err: unknown, socket: string): AionError {
  const code = (err as { code?: string }).code ?? '';
  const refused = ['ECONNREFUSED', 'ENOENT', 'UND_ERR_CONNECT_TIMEOUT'].includes(code);
  return new AionError(
    refused ? 'LC032' : 'EX044',
    refused ? `no daemon answers on ${socket}` : `the daemon connection broke (${code || (err as Error).message})`,
    { hint: refused ? 'aionctl daemon start' : 'rerun with --no-daemon, or aionctl daemon restart', cause: err },
  );
}
