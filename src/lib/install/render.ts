/** Plain-text lines for install results (one per package), shared by install, uninstall and update. */
import type { InstallEvent, InstallResult } from './index.js';

export function progressLine(e: InstallEvent): string {
  return `${e.name}@${e.version}  ${e.digest.slice(0, 19)}  ${e.fetched ? 'fetched' : 'in store'}, verified (key ${e.signer.slice(0, 12)})`;
}

export function summaryLine(r: InstallResult): string {
  const fetched = r.packages.filter((p) => p.fetched).length;
  const lock = r.lockfileChanged ? 'aionctl.lock written' : 'aionctl.lock unchanged';
  const how = r.fromLockfile ? ', from the lockfile' : '';
  return `${r.packages.length} packages installed (${fetched} fetched${how}); ${lock}`;
}
