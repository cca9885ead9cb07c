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
  /** Forward, but replace Docker-Content-Digest with another digest. */
  | 'wrong-digest-header';

export interface FaultRule {
  method?: string;
  /** Matched against the request path + query. */
  path: RegExp;
  fault: Fault;
  /** How many matching requests get the fault (default: all). */
  times?: number;
}

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  fault?: Fault;
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

  function pick(req: IncomingMessage): Fault | undefined {
    for (const rule of state.rules) {
      if (rule.method && rule.method !== req.method) continue;
      if (!rule.path.test(req.url ?? '')) continue;
      if (rule.times !== undefined) {
        if (rule.times <= 0) continue;
        rule.times--;
      }
      return rule.fault;
    }
    return undefined;
  }

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const fault = pick(req);
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, ...(fault ? { fault } : {}) });
    if (fault === 'error-500' || fault === 'error-429') {
      req.resume();
      const status = fault === 'error-500' ? 500 : 429;
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
        res.writeHead(upRes.statusCode ?? 502, headers);
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
