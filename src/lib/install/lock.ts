/** One install at a time per project: a lock directory under `.aionctl/` (stale after a crash: taken over). */
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { AionError } from '../errors/index.js';
import { ensureDir } from '../fs/index.js';

export async function acquireInstallLock(stateDir: string): Promise<() => Promise<void>> {
  await ensureDir(stateDir);
  try {
    const release = await lockfile.lock(stateDir, {
      lockfilePath: join(stateDir, 'install.lock'),
      stale: 5000,
      update: 1000,
      retries: { retries: 30, minTimeout: 200, maxTimeout: 500 },
      realpath: false,
      onCompromised: () => undefined,
    });
    return async () => {
      await release().catch(() => undefined);
    };
  } catch (err) {
    throw new AionError('LC012', `another install holds ${join(stateDir, 'install.lock')}`, {
      cause: err,
      hint: 'wait for it to finish (a crashed one is taken over after 5 s)',
    });
  }
}
