import { createInterface } from 'node:readline';
import { Args, Flags } from '@oclif/core';
import { BaseCommand, INSECURE_WARNING } from '../lib/cli/index.js';
import { AionError } from '../lib/errors/index.js';
import { parseRegistryHost } from '../lib/oci/index.js';
import { connectRegistry, storeCredential } from '../lib/oci/registry/index.js';

export interface LoginResultJson {
  registry: string;
  username: string;
  storedIn: string;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

async function prompt(question: string, hidden: boolean): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  if (hidden) {
    // Echo nothing for the password: readline writes through _writeToOutput.
    const r = rl as unknown as { _writeToOutput: (s: string) => void; output: NodeJS.WriteStream };
    r._writeToOutput = (s: string) => {
      if (s.startsWith(question)) r.output.write(question);
    };
  }
  const answer = await new Promise<string>((resolve) => rl.question(question, resolve));
  rl.close();
  if (hidden) process.stderr.write('\n');
  return answer;
}

export default class Login extends BaseCommand {
  static override summary = 'Log in to a registry: verify the credentials, then store them like docker login.';
  static override description =
    'The credentials are checked against the registry first (basic or bearer-token auth) and stored only when accepted: in the credential helper configured for the host (credHelpers, credsStore) or else in the "auths" map of $DOCKER_CONFIG/config.json (~/.docker/config.json), file mode 0600. docker, oras, helm and skopeo read the same file. Prefer --password-stdin: a --password is visible to other users in the process list.';
  static override examples = [
    'echo "$TOKEN" | <%= config.bin %> login ghcr.io -u octocat --password-stdin',
    '<%= config.bin %> login localhost:5000 -u admin',
  ];
  static override args = {
    host: Args.string({ description: 'Registry host[:port], e.g. ghcr.io or localhost:5000.', required: true }),
  };
  static override flags = {
    username: Flags.string({ char: 'u', description: 'User name (prompted on a TTY when missing).' }),
    password: Flags.string({ char: 'p', description: 'Password or token (unsafe: visible in the process list).' }),
    'password-stdin': Flags.boolean({ description: 'Read the password or token from stdin.', exclusive: ['password'] }),
    'plain-http': Flags.boolean({ description: 'Talk plain HTTP to the registry (default for localhost).' }),
    insecure: Flags.boolean({ description: 'TLS without certificate verification (unsafe).' }),
  };

  async run(): Promise<LoginResultJson> {
    const { args, flags } = await this.parse(Login);
    const ref = parseRegistryHost(args.host, flags['plain-http']);
    if (flags.insecure) this.warnLine(INSECURE_WARNING);
    const tty = process.stdin.isTTY === true;
    let username = flags.username;
    let password = flags.password;
    if (flags.password) this.warnLine('--password is visible to other users; use --password-stdin');
    if (flags['password-stdin']) {
      if (!username) throw new AionError('CI003', '--password-stdin needs --username', { hint: 'add -u USER' });
      password = await readStdin();
    }
    if (username === undefined) {
      if (!tty) throw new AionError('CI003', 'no --username given and no TTY to ask for it', { hint: 'add -u USER' });
      username = await prompt('Username: ', false);
    }
    if (password === undefined) {
      if (!tty) {
        throw new AionError('CI003', 'no password given and no TTY to ask for it', {
          hint: 'pipe it in: echo "$TOKEN" | aionctl login HOST -u USER --password-stdin',
        });
      }
      password = await prompt('Password: ', true);
    }
    if (!username || !password) throw new AionError('CI003', 'the user name and password must not be empty');
    const target = connectRegistry(ref, {
      env: process.env,
      insecure: flags.insecure,
      credential: { username, password },
      maxRetries: 1,
    });
    try {
      await target.ping();
    } finally {
      await target.close();
    }
    const { location } = await storeCredential(ref.registry, { username, password }, process.env);
    this.log(`Login succeeded: ${username}@${ref.registry} (credentials stored in ${location})`);
    return { registry: ref.registry, username, storedIn: location };
  }
}
