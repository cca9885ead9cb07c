import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A hostile "registry" for tests: a plain node:http (or https, self-signed) server whose every answer the test
 * writes. Records each request (method, URL, headers) so a test can assert what the client sent where.
 */
export interface HostileRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
}

export interface HostileServer {
  /** `127.0.0.1:PORT` */
  host: string;
  /** `http://127.0.0.1:PORT` (or https). */
  origin: string;
  requests: HostileRequest[];
  stop(): Promise<void>;
}

export type HostileHandler = (req: IncomingMessage, res: ServerResponse, self: HostileServer) => void;

export async function startHostileServer(
  handler: HostileHandler,
  options: { tls?: boolean } = {},
): Promise<HostileServer> {
  const requests: HostileRequest[] = [];
  let dir: string | undefined;
  const ref: { self?: HostileServer } = {};
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    handler(req, res, ref.self as HostileServer);
  };
  let server: Server;
  if (options.tls) {
    dir = await mkdtemp(join(tmpdir(), 'aionctl-hostile-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        join(dir, 'k.pem'),
        '-out',
        join(dir, 'c.pem'),
      ].concat(['-days', '1', '-subj', '/CN=localhost']),
      { stdio: 'pipe' },
    );
    server = createHttpsServer(
      { key: await readFile(join(dir, 'k.pem')), cert: await readFile(join(dir, 'c.pem')) },
      listener,
    ) as unknown as Server;
  } else server = createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const self: HostileServer = {
    host,
    origin: `${options.tls ? 'https' : 'http'}://${host}`,
    requests,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (dir) await rm(dir, { recursive: true, force: true });
    },
  };
  ref.self = self;
  return self;
}

/** Writes `body` one byte at a time, `intervalMs` apart (a registry that never quite stops). */
export function trickle(res: ServerResponse, body: Buffer, intervalMs: number): void {
  let i = 0;
  const timer = setInterval(() => {
    if (res.destroyed || i >= body.length) {
      clearInterval(timer);
      if (!res.destroyed) res.end();
      return;
    }
    res.write(body.subarray(i, i + 1));
    i++;
  }, intervalMs);
  res.on('close', () => clearInterval(timer));
}
