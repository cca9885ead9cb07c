/**
 * The `aionctl run` fast path, loaded by bin/run.js BEFORE oclif: when a daemon of this exact build is up for this
 * user and store, the run is handed to it over the socket and printed exactly as `aionctl run` prints it. Node
 * built-ins only (no oclif, ink, ajv, undici): this file's import time is what a warm run costs over `node -e 0`.
 * Returns undefined to fall through to oclif (no daemon, another version, a flag it does not handle, AIONCTL_DAEMON
 * =off, --no-daemon); a number is the exit code.
 */
import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { selfIdentity } from './identity.js';
import { daemonPaths } from './paths.js';
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
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function post(socket: string, path: string, body: string | undefined): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath: socket,
        path,
        method: body === undefined ? 'GET' : 'POST',
        headers:
          body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
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
  if (!existsSync(paths.record)) return notRunning('no pid record');
  let record: { version?: string; buildId?: string; socket?: string };
  try {
    record = JSON.parse(readFileSync(paths.record, 'utf8')) as typeof record;
  } catch {
    return notRunning('unreadable pid record');
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
