import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A fault-injecting HTTP proxy in front of a real registry, for tests: every request is forwarded unchanged (Host
 * header included, so the registry's absolute Location URLs point back at the proxy) unless a rule matches.
 */
export type Fault =
  /** Send the headers and half the body, then cut the connection. */
  | 'reset-half'
  /** Forward, but flip one byte of the body (same length, wrong digest). */
  | 'corrupt'
  /** Answer 500 without forwarding. */
  | 'error-500'
  /** Answer 429 with Retry-After: 0 without forwarding. */
  | 'error-429'
  /** Answer 403 DENIED without forwarding (a registry that forbids the call, as ECR without ListImages). */
  | 'error-403'
  /** Forward, but replace Docker-Content-Digest with another digest. */
  | 'wrong-digest-header'
  /** Answer 307 to `redirectTo` + the request path, without forwarding. */
  | 'redirect';

export interface FaultRule {
  method?: string;
  /** Matched against the request path + query. */
  path: RegExp;
  fault: Fault;
  /** How many matching requests get the fault (default: all). */
  times?: number;
  /** Only the first N requests of each distinct URL (path + query) get the fault. */
  perUrl?: number;
  /** For `redirect`: the origin to send the client to, e.g. `http://127.0.0.1:9999`. */
  redirectTo?: string;
}

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  fault?: Fault;
  /** The status the client got (set when the answer is sent). */
  status?: number;
}

export interface FaultProxy {
  host: string;
  requests: RecordedRequest[];
  rules: FaultRule[];
  stop(): Promise<void>;
}

export async function startFaultProxy(upstream: string, rules: FaultRule[] = []): Promise<FaultProxy> {
  const [upHost, upPort] = upstream.split(':') as [string, string];
  const requests: RecordedRequest[] = [];
  const state = { rules };

  const seen = new Map<FaultRule, Map<string, number>>();
  function pick(req: IncomingMessage): FaultRule | undefined {
    for (const rule of state.rules) {
      if (rule.method && rule.method !== req.method) continue;
      if (!rule.path.test(req.url ?? '')) continue;
      if (rule.perUrl !== undefined) {
        const counts = seen.get(rule) ?? new Map<string, number>();
        seen.set(rule, counts);
        const count = counts.get(req.url ?? '') ?? 0;
        counts.set(req.url ?? '', count + 1);
        if (count >= rule.perUrl) continue;
      }
      if (rule.times !== undefined) {
        if (rule.times <= 0) continue;
        rule.times--;
      }
      return rule;
    }
    return undefined;
  }

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const rule = pick(req);
    const fault = rule?.fault;
    const record: RecordedRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      ...(fault ? { fault } : {}),
    };
    requests.push(record);
    if (fault === 'redirect') {
      req.resume();
      record.status = 307;
      res.writeHead(307, { location: `${rule?.redirectTo ?? ''}${req.url ?? ''}` });
      res.end();
      return;
    }
    if (fault === 'error-403') {
      req.resume();
      record.status = 403;
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'DENIED', message: 'not allowed to list tags' }] }));
      return;
    }
    if (fault === 'error-500' || fault === 'error-429') {
      req.resume();
      const status = fault === 'error-500' ? 500 : 429;
      record.status = status;
      res.writeHead(status, { 'content-type': 'text/plain', ...(status === 429 ? { 'retry-after': '0' } : {}) });
      res.end(`injected ${status}`);
      return;
    }
    const upstreamReq = httpRequest(
      { host: upHost, port: Number(upPort), method: req.method, path: req.url, headers: req.headers },
      (upRes) => {
        const headers = { ...upRes.headers };
        if (fault === 'wrong-digest-header' && headers['docker-content-digest']) {
          headers['docker-content-digest'] = `sha256:${'e'.repeat(64)}`;
        }
        record.status = upRes.statusCode ?? 502;
        res.writeHead(record.status, headers);
        if (fault === 'reset-half') {
          const total = Number(upRes.headers['content-length'] ?? 0);
          let sent = 0;
          upRes.on('data', (chunk: Buffer) => {
            const room = Math.floor(total / 2) - sent;
            if (room > 0) {
              res.write(chunk.subarray(0, room));
              sent += Math.min(room, chunk.length);
            }
            if (sent >= Math.floor(total / 2)) {
              upRes.destroy();
              // flush what was written, then cut the connection mid-body
              setTimeout(() => res.socket?.destroy(), 20);
            }
          });
          return;
        }
        if (fault === 'corrupt') {
          let flipped = false;
          upRes.on('data', (chunk: Buffer) => {
            if (!flipped && chunk.length > 0) {
              const copy = Buffer.from(chunk);
              copy[0] = (copy[0] ?? 0) ^ 0xff;
              flipped = true;
              res.write(copy);
            } else res.write(chunk);
          });
          upRes.on('end', () => res.end());
          return;
        }
        upRes.pipe(res);
      },
    );
    upstreamReq.on('error', () => res.destroy());
    req.pipe(upstreamReq);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    host: `127.0.0.1:${port}`,
    requests,
    rules: state.rules,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
