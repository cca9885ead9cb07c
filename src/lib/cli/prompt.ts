/** Terminal prompts (CLI only: reads process.stdin, writes process.stderr). */
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import type { Env } from '../env/index.js';
import { AionError } from '../errors/index.js';

/** Reads a line from the terminal without echoing it. */
async function promptHidden(question: string): Promise<string> {
  const muted = new Writable({ write: (_c, _e, cb) => cb() });
  process.stderr.write(question);
  const rl = createInterface({ input: process.stdin, output: muted, terminal: true });
  try {
    return await new Promise<string>((res) => rl.question('', res));
  } finally {
    rl.close();
    process.stderr.write('\n');
  }
}

/**
 * The key password: $COSIGN_PASSWORD (cosign's variable, may be empty), then $AIONCTL_PASSWORD, then a prompt
 * when stdin is a terminal; otherwise CI003 (never hang in CI waiting for input).
 */
export async function readPassword(env: Env = process.env, options: { confirm?: boolean } = {}): Promise<string> {
  if (env.COSIGN_PASSWORD !== undefined) return env.COSIGN_PASSWORD;
  if (env.AIONCTL_PASSWORD !== undefined) return env.AIONCTL_PASSWORD;
  if (!process.stdin.isTTY)
    throw new AionError('CI003', 'a key password is needed and there is no terminal to ask for it', {
      hint: 'set COSIGN_PASSWORD (or AIONCTL_PASSWORD); an empty value means no password',
    });
  const first = await promptHidden('Enter password for private key: ');
  if (options.confirm) {
    const second = await promptHidden('Enter password for private key again: ');
    if (first !== second) throw new AionError('CI001', 'the passwords do not match');
  }
  return first;
}
