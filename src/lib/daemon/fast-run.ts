/**
 * The `aionctl run` fast path, loaded by bin/run.js BEFORE oclif: when a daemon of this exact build is up for this
 * user and store, the run is handed to it over the socket and printed exactly as `aionctl run` prints it. Node
 * built-ins only (node:fs, node:net; no oclif, ink, ajv, undici, node:http, node:crypto): this file's import time is what a warm run costs over `node -e 0`.
 * Returns undefined to fall through to oclif (no daemon, another version, a flag it does not handle, AIONCTL_DAEMON
 * =off, --no-daemon); a number is the exit code.
 */
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { selfIdentity } from './identity.js';
import { checkPrivateDir, daemonPaths } from './paths.js';
import { INPUT_ERROR_CODE, INPUT_ERROR_HINT, inputErrorMessage } from '../run/input.js';

type Env = Readonly<Record<string, string | undefined>>;

export interface FastIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  readStdin: () => string;
}

interface Parsed {
  pkg: string;
  input?: string;
  inputJson?: string;
  timeout?: number;
  json: boolean;
  env: string[];
  dirs: string[];
  sandbox?: string;
}

/** The subset of `aionctl run` flags the fast path understands; anything else returns undefined (oclif parses it). */
export function parseRunArgv(argv: readonly string[]): Parsed | undefined {
  const out: Parsed = { pkg: '', json: false, env: [], dirs: [] };
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i]!;
    let value: string | undefined;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    if (eq > 0) {
      value = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    const take = (): string | undefined => value ?? argv[++i];
    switch (arg) {
      case '--json':
        if (value !== undefined) return undefined;
        out.json = true;
        break;
      case '--input':
      case '-i':
        out.input = take();
        if (out.input === undefined) return undefined;
        break;
      case '--input-json':
        out.inputJson = take();
        if (out.inputJson === undefined) return undefined;
        break;
      case '--timeout': {
        const t = take();
        if (t === undefined || !/^[1-9]\d*$/.test(t)) return undefined;
        out.timeout = Number(t);
        break;
      }
      case '--env': {
        const v = take();
        if (v === undefined) return undefined;
        out.env.push(v);
        break;
      }
      case '--dir': {
        const v = take();
        if (v === undefined) return undefined;
        out.dirs.push(v);
        break;
      }
      case '--sandbox': {
        const v = take();
        if (!v || !['auto', 'bwrap', 'none'].includes(v)) return undefined;
        out.sandbox = v;
        break;
      }
      default:
        if (arg.startsWith('-') && arg !== '-') return undefined; // --help, --debug, --no-daemon, unknown: oclif
        positional.push(arg);
    }
  }
  if (positional.length !== 1 || (out.input !== undefined && out.inputJson !== undefined)) return undefined;
  out.pkg = positional[0]!;
  return out;
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * One HTTP/1.1 exchange over the Unix socket, written by hand on node:net (node:http's client costs ~25 ms to load
 * and to set up its agent here, more than the rest of the hand-off). `Connection: close`; the answer is read to its
 * Content-Length (or chunked end, or the close), then the socket is dropped.
 */
function post(socket: string, path: string, body: string | undefined): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const s = connect(socket);
    const head =
      `${body === undefined ? 'GET' : 'POST'} ${path} HTTP/1.1\r\nhost: aionctl\r\nconnection: close\r\n` +
      (body === undefined
        ? '\r\n'
        : `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    let data: Buffer = Buffer.alloc(0);
    let settled = false;
    const finish = (err: Error | undefined, answer?: Answer) => {
      if (settled) return;
      settled = true;
      s.destroy();
      if (err) reject(err);
      else resolve(answer!);
    };
    const parse = (ended: boolean): void => {
      const end = data.indexOf('\r\n\r\n');
      if (end < 0) {
        if (ended)
          finish(Object.assign(new Error('the daemon closed the connection mid-answer'), { code: 'ECONNRESET' }));
        return;
      }
      const lines = data.subarray(0, end).toString('latin1').split('\r\n');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0]!)?.[1] ?? 0);
      const headers: Record<string, string> = {};
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(':');
        if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      let rest: Buffer = data.subarray(end + 4);
      if (headers['content-length'] !== undefined) {
        const length = Number(headers['content-length']);
        if (rest.length < length) {
          if (ended) finish(Object.assign(new Error('the daemon answer was cut short'), { code: 'ECONNRESET' }));
          return;
        }
        return finish(undefined, { status, headers, body: rest.subarray(0, length).toString('utf8') });
      }
      if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
        const parts: Buffer[] = [];
        for (;;) {
          const eol = rest.indexOf('\r\n');
          if (eol < 0) break;
          const size = parseInt(rest.subarray(0, eol).toString('latin1'), 16);
          if (size === 0) return finish(undefined, { status, headers, body: Buffer.concat(parts).toString('utf8') });
          if (rest.length < eol + 2 + size + 2) break;
          parts.push(rest.subarray(eol + 2, eol + 2 + size));
          rest = rest.subarray(eol + 2 + size + 2);
        }
        if (ended) finish(Object.assign(new Error('the daemon answer was cut short'), { code: 'ECONNRESET' }));
        return;
      }
      if (ended) finish(undefined, { status, headers, body: rest.toString('utf8') });
    };
    s.on('connect', () => s.write(head));
    s.on('data', (chunk: Buffer) => {
      data = data.length === 0 ? chunk : Buffer.concat([data, chunk]);
      parse(false);
    });
    s.on('end', () => parse(true));
    s.on('error', (err) => finish(err));
    s.on('close', () => parse(true));
  });
}

function printError(io: FastIo, json: boolean, error: { code: string; message: string; hint?: string }): void {
  if (json) io.stdout(`${JSON.stringify({ error }, null, 2)}\n`);
  else io.stderr(`error ${error.code}: ${error.message}\n${error.hint ? `  hint: ${error.hint}\n` : ''}`);
}

/** Exit codes of the families the fast path can print without the error catalog. */
const FAMILY_EXIT: Record<string, number> = { CI: 2, SC: 1, MD: 3, FS: 3, RG: 4, NE: 5, ST: 6, LC: 7, EX: 8 };

export async function fastRun(argv: readonly string[], env: Env, cwd: string, io: FastIo): Promise<number | undefined> {
  const mode = env.AIONCTL_DAEMON ?? 'auto';
  if (mode === 'off' || argv.includes('--no-daemon')) return undefined;
  const args = parseRunArgv(argv);
  if (!args) return undefined;
  const paths = daemonPaths(env);
  const require = mode === 'require';
  const notRunning = (why: string): number | undefined => {
    if (!require) return undefined;
    printError(io, args.json, {
      code: 'LC032',
      message: `no daemon is running for this user and store (${why})`,
      hint: 'aionctl daemon start, or AIONCTL_DAEMON=auto to run without one',
    });
    return 7;
  };
  // The run body carries this process's whole environment: hand it only to a socket in our own 0700 dir (the same
  // check the daemon made when it started), never to one another user planted in a shared /tmp.
  const unsafe = checkPrivateDir(paths.dir, false);
  if (unsafe) return notRunning(`the socket dir ${unsafe.dir} is unsafe: ${unsafe.problem}`);
  let record: { version?: string; buildId?: string; socket?: string };
  try {
    record = JSON.parse(readFileSync(paths.record, 'utf8')) as typeof record;
  } catch (err) {
    return notRunning((err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no pid record' : 'unreadable pid record');
  }
  const me = selfIdentity();
  if (record.version !== me.version || record.buildId !== me.buildId) {
    // No silent version drift: ask the old daemon to exit; this run goes the cold way (or `daemon start` replaces it).
    await post(paths.socket, '/v1/shutdown', '{}').catch(() => undefined);
    return notRunning(`the running daemon is ${record.version}/${record.buildId}, this is ${me.version}/${me.buildId}`);
  }
  const fromStdin = args.inputJson === undefined && (args.input === undefined || args.input === '-');
  if (fromStdin) {
    // stdin can be read once: make sure a daemon answers before consuming it, so a fall-through still has it.
    const health = await post(paths.socket, '/healthz', undefined).catch(() => undefined);
    if (!health || health.status !== 200) return notRunning(`nothing answers on ${paths.socket}`);
  }
  let input: unknown;
  try {
    const text =
      args.inputJson ??
      (args.input !== undefined && args.input !== '-' ? readFileSync(args.input, 'utf8') : io.readStdin());
    input = JSON.parse(text);
  } catch (err) {
    if (fromStdin) {
      // The same error `aionctl run --no-daemon` gives (EX026, exit 8): results are identical both ways.
      printError(io, args.json, {
        code: INPUT_ERROR_CODE,
        message: inputErrorMessage('stdin', err),
        hint: INPUT_ERROR_HINT,
      });
      return 8;
    }
    return undefined; // unreadable or not JSON: oclif's run reports it with its own code and wording
  }
  const body = JSON.stringify({
    package: args.pkg,
    input,
    cwd,
    ...(args.timeout ? { timeoutMs: args.timeout } : {}),
    ...(args.env.length ? { env: args.env } : {}),
    ...(args.dirs.length ? { dirs: args.dirs } : {}),
    ...(args.sandbox ? { sandbox: args.sandbox } : {}),
    environment: Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined)),
  });
  let answer: Answer;
  try {
    answer = await post(paths.socket, '/v1/runs', body);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    // Nothing listens (crashed, stale socket): the run never reached a daemon, so the cold path is safe.
    if (!fromStdin && (code === 'ECONNREFUSED' || code === 'ENOENT'))
      return notRunning(`nothing listens on ${paths.socket}`);
    printError(io, args.json, {
      code: 'EX044',
      message: `the daemon connection broke during the run (${code || (err as Error).message})`,
      hint: 'rerun with --no-daemon, or aionctl daemon restart',
    });
    return 8;
  }
  if (answer.status === 503 && !require && !fromStdin) return undefined; // draining: run it here
  let parsed: {
    ok?: boolean;
    output?: unknown;
    error?: { code: string; message: string; hint?: string } | null;
    exitCode?: number | null;
  };
  try {
    parsed = JSON.parse(answer.body) as typeof parsed;
  } catch {
    printError(io, args.json, { code: 'EX044', message: `the daemon answered ${answer.status} without JSON` });
    return 8;
  }
  const exitHeader = Number(answer.headers['x-aionctl-exit']);
  if (answer.status !== 200) {
    const error = parsed.error ?? { code: 'EX044', message: `the daemon answered ${answer.status}` };
    printError(io, args.json, error);
    return Number.isInteger(exitHeader) ? exitHeader : (FAMILY_EXIT[error.code.slice(0, 2)] ?? 1);
  }
  if (args.json) io.stdout(`${JSON.stringify(parsed, null, 2)}\n`);
  else if (parsed.ok) io.stdout(`${JSON.stringify(parsed.output)}\n`);
  else if (parsed.error) {
    printError(io, false, parsed.error);
    if (parsed.exitCode !== null && parsed.exitCode !== undefined) io.stderr(`  exit status: ${parsed.exitCode}\n`);
  }
  return Number.isInteger(exitHeader) ? exitHeader : parsed.ok ? 0 : 1;
}
