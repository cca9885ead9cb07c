/**
 * The detached daemon process (`node dist/src/daemon/main.js`, spawned by `aionctl daemon start`). Exits when
 * stopped (SIGTERM/SIGINT drain first, `POST /v1/shutdown`, idle timeout), removing its socket and pid record.
 */
import { isAionError } from '../lib/errors/index.js';
import { startDaemon } from './index.js';

let server: Awaited<ReturnType<typeof startDaemon>> | undefined;
try {
  server = await startDaemon({
    env: process.env,
    cwd: process.env.AIONCTL_DAEMON_CWD || process.cwd(),
    onStopped: () => process.exit(0),
  });
} catch (err) {
  const e = isAionError(err) ? `${err.code}: ${err.message}` : String((err as Error).stack ?? err);
  process.stderr.write(`aionctl daemon: ${e}\n`);
  process.exit(isAionError(err) ? err.exitCode : 70);
}
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => void server?.stop(signal));
process.on('uncaughtException', (err) => {
  process.stderr.write(`aionctl daemon: uncaught ${err.stack ?? err}\n`);
  server?.cleanupFiles();
  process.exit(70);
});
