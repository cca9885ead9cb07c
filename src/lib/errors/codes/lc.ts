import type { ErrorCodeSpec } from '../types.js';

export const LC_CODES: readonly ErrorCodeSpec[] = [
  {
    code: 'LC030',
    summary:
      'The daemon runtime directory is unsafe (not owned by you, a symlink, or not mode 0700): the daemon refuses to use it.',
  },
  { code: 'LC031', summary: 'The daemon did not answer /healthz in time after starting (the log tail says why).' },
  { code: 'LC032', summary: 'No daemon is running for this user and store (AIONCTL_DAEMON=require).' },
  {
    code: 'LC033',
    summary: 'A daemon of another version is running and did not exit when asked: stop it with aionctl daemon stop.',
  },
  { code: 'LC034', summary: 'Another daemon start holds the start lock and did not finish in time.' },
  {
    code: 'LC035',
    summary: 'The daemon cannot resolve packages: the resolver (install) is not part of this build (HTTP 501).',
  },
  {
    code: 'LC036',
    summary: 'The daemon section of the configuration is invalid (idleTimeoutMs, maxQueue, cacheBytes, workers).',
  },
];
