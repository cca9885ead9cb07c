import { execFileSync } from 'node:child_process';
import { createPrivateKey, createSign, randomBytes, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A bearer token service for distribution's `token` auth, for tests: a self-signed RSA certificate (openssl) is
 * the registry's rootcertbundle, and tokens are RS256 JWTs carrying it in `x5c`, so the real registry verifies
 * them. Basic credentials get pull+push; anonymous requests get pull only when `anonymousPull`.
 */
export interface TokenServer {
  /** `http://127.0.0.1:PORT/token` */
  realm: string;
  service: string;
  issuer: string;
  /** YAML to pass as `extraConfig` to startRegistry (replaces htpasswd auth). */
  registryConfig: string;
  /** Every token request: its query scopes and whether it carried valid basic credentials. */
  requests: { scopes: string[]; authenticated: boolean; service: string | null }[];
  stop(): Promise<void>;
}

function b64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

export async function startTokenServer(options: {
  username: string;
  password: string;
  anonymousPull?: boolean;
  /** Accepted as an OAuth2 refresh token (docker's identitytoken) in `POST /token grant_type=refresh_token`. */
  refreshToken?: string;
}): Promise<TokenServer> {
  const dir = await mkdtemp(join(tmpdir(), 'aionctl-token-'));
  const keyPath = join(dir, 'key.pem');
  const certPath = join(dir, 'cert.pem');
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        keyPath,
        '-out',
        certPath,
        '-days',
        '2',
        '-subj',
        '/CN=aionctl-test-token',
      ],
      { stdio: 'pipe' },
    );
  } catch (err) {
    throw new Error(`test prerequisite missing: openssl could not make a certificate (${(err as Error).message})`);
  }
  const key = createPrivateKey(await readFile(keyPath));
  const certDer = new X509Certificate(await readFile(certPath)).raw;
  const service = 'aionctl-test-registry';
  const issuer = 'aionctl-test-issuer';
  const requests: TokenServer['requests'] = [];

  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== '/token') {
      res.writeHead(404).end();
      return;
    }
    let scopes = url.searchParams.getAll('scope');
    const header = req.headers.authorization ?? '';
    let authenticated = false;
    if (req.method === 'POST') {
      // OAuth2 form (docker/oras identity tokens): grant_type=refresh_token&refresh_token=...&service&scope
      let text = '';
      for await (const chunk of req) text += chunk;
      const form = new URLSearchParams(text);
      scopes = (form.get('scope') ?? '').split(' ').filter(Boolean);
      url.searchParams.set('service', form.get('service') ?? '');
      if (form.get('grant_type') !== 'refresh_token' || form.get('refresh_token') !== options.refreshToken) {
        requests.push({ scopes, authenticated: false, service: form.get('service') });
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"bad refresh token"}');
        return;
      }
      authenticated = true;
    } else if (header.startsWith('Basic ')) {
      const [user, ...rest] = Buffer.from(header.slice(6), 'base64').toString().split(':');
      if (user === options.username && rest.join(':') === options.password) authenticated = true;
      else {
        requests.push({ scopes, authenticated: false, service: url.searchParams.get('service') });
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"bad credentials"}');
        return;
      }
    }
    requests.push({ scopes, authenticated, service: url.searchParams.get('service') });
    const access = scopes.flatMap((scope) => {
      const [type, name, actions] = [
        scope.split(':')[0],
        scope.split(':').slice(1, -1).join(':'),
        scope.split(':').at(-1),
      ];
      const wanted = (actions ?? '').split(',').filter(Boolean);
      const granted = authenticated ? wanted : options.anonymousPull ? wanted.filter((a) => a === 'pull') : [];
      return granted.length ? [{ type, name, actions: granted }] : [];
    });
    const now = Math.floor(Date.now() / 1000);
    const jwtHeader = { typ: 'JWT', alg: 'RS256', x5c: [certDer.toString('base64')] };
    const claims = {
      iss: issuer,
      sub: authenticated ? options.username : '',
      aud: url.searchParams.get('service') ?? service,
      exp: now + 300,
      nbf: now - 10,
      iat: now,
      jti: randomBytes(8).toString('hex'),
      access,
    };
    const input = `${b64url(JSON.stringify(jwtHeader))}.${b64url(JSON.stringify(claims))}`;
    const signature = createSign('RSA-SHA256').update(input).sign(key);
    const token = `${input}.${b64url(signature)}`;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const realm = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
  return {
    realm,
    service,
    issuer,
    requests,
    registryConfig: `auth:\n  token:\n    realm: ${realm}\n    service: ${service}\n    issuer: ${issuer}\n    rootcertbundle: ${certPath}\n`,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
