import { join } from 'node:path';
import { medianOf, REPO_ROOT, round, timeCommand } from './util.js';

/** `aionctl --version` wall time against a bare `node -e 0`, same environment, median of 15 each. */
export async function startupBench(): Promise<Record<string, number>> {
  const bin = join(REPO_ROOT, 'bin', 'run.js');
  const node = medianOf(15, () => timeCommand(process.execPath, ['-e', '0']));
  const version = medianOf(15, () => timeCommand(process.execPath, [bin, '--version']));
  return { node_e0_ms: round(node), version_ms: round(version), version_over_node_ratio: round(version / node) };
}
