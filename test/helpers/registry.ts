import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A real OCI registry (Debian's docker-registry, distribution 2.8.2) on a loopback port, for tests. */
export interface TestRegistry {
  /** `127.0.0.1:PORT`: use as the registry part of references. */
  host: string;
  port: number;
  /** Filesystem storage root (distribution's layout under docker/registry/v2). */
  storageRoot: string;
  /** Set when started with auth: the only valid credentials. */
  credentials?: { username: string; password: string };
  stop(): Promise<void>;
}

export interface TestRegistryOptions {
  /** Enable htpasswd basic auth with these credentials (bcrypt via Debian's htpasswd). */
  auth?: { username: string; password: string };
  /** Extra YAML appended to the registry config (e.g. token auth). */
  extraConfig?: string;
}

const REGISTRY_BIN = process.env.AIONCTL_TEST_REGISTRY_BIN ?? 'docker-registry';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

function requireTool(bin: string, hint: string): void {
  try {
    execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'pipe' });
  } catch {
    // Never skip: a missing peer must fail the test loudly so CI cannot pass without the real registry.
    throw new Error(`test prerequisite missing: ${bin} is not on PATH (${hint})`);
  }
}

async function waitUntilUp(host: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited with ${child.exitCode}:\n${log()}`);
    try {
      const res = await fetch(`http://${host}/v2/`);
      await res.arrayBuffer();
      if (res.status === 200 || res.status === 401) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`docker-registry did not come up on ${host}:\n${log()}`);
}

/** Starts a fresh registry with its own storage in a temp dir; `stop()` kills it and removes the storage. */
export async function startRegistry(options: TestRegistryOptions = {}): Promise<TestRegistry> {
  requireTool(REGISTRY_BIN, 'apt-get install docker-registry');
  const dir = await mkdtemp(join(tmpdir(), 'aionctl-registry-'));
  const storageRoot = join(dir, 'storage');
  let authYaml = '';
  if (options.auth) {
    requireTool('htpasswd', 'apt-get install apache2-utils');
    const line = execFileSync('htpasswd', ['-Bbn', options.auth.username, options.auth.password], { encoding: 'utf8' });
    await writeFile(join(dir, 'htpasswd'), line.trim() + '\n');
    authYaml = `auth:\n  htpasswd:\n    realm: aionctl-test\n    path: ${join(dir, 'htpasswd')}\n`;
  }
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const host = `127.0.0.1:${port}`;
    const config = [
      'version: 0.1',
      'log:\n  level: error\n  accesslog:\n    disabled: true',
      `storage:\n  filesystem:\n    rootdirectory: ${storageRoot}\n  delete:\n    enabled: true\n  maintenance:\n    uploadpurging:\n      enabled: false`,
      `http:\n  addr: ${host}\n  secret: aionctl-test-secret\n  headers:\n    X-Content-Type-Options: [nosniff]`,
      authYaml,
      options.extraConfig ?? '',
    ].join('\n');
    await writeFile(join(dir, 'config.yml'), config);
    // The log goes to a file, not a pipe: a caller that blocks its event loop (spawnSync in the benches) would stop
    // draining a pipe, and once its 64 KiB filled the registry would hang on every response it logs (each 404).
    const logPath = join(dir, `registry-${attempt}.log`);
    const logFd = openSync(logPath, 'w');
    const child = spawn(REGISTRY_BIN, ['serve', join(dir, 'config.yml')], { stdio: ['ignore', logFd, logFd] });
    closeSync(logFd);
    const readLog = () => {
      try {
        return readFileSync(logPath, 'utf8');
      } catch {
        return '';
      }
    };
    try {
      await waitUntilUp(host, child, readLog);
    } catch (err) {
      child.kill('SIGKILL');
      if (attempt < 2 && /address already in use/.test(readLog())) continue;
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
    return {
      host,
      port,
      storageRoot,
      credentials: options.auth,
      async stop() {
        if (child.exitCode === null) {
          const exited = new Promise((r) => child.once('exit', r));
          child.kill('SIGTERM');
          await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
          if (child.exitCode === null) child.kill('SIGKILL');
        }
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
}
