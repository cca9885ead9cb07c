import { execFile } from 'node:child_process';
import { userInfo } from 'node:os';

/**
 * Who stamps, for the owner/author/copyright of new blocks when .aionctl.yaml names no owner: `git config
 * user.name` as seen from `cwd` (the identity the commit will carry), else the OS user name, else "unknown".
 */
export async function defaultOwner(cwd: string, env: NodeJS.ProcessEnv): Promise<string> {
  const fromGit = await new Promise<string | undefined>((done) => {
    execFile('git', ['config', '--get', 'user.name'], { cwd, env, encoding: 'utf8', timeout: 10_000 }, (err, out) =>
      done(err ? undefined : out.trim() || undefined),
    );
  });
  if (fromGit) return fromGit;
  try {
    const name = userInfo().username.trim();
    if (name) return name;
  } catch {
    // no passwd entry for this uid (containers): fall through
  }
  return env.USER?.trim() || env.LOGNAME?.trim() || 'unknown';
}
