import type { ErrorFamily } from './types.js';

/**
 * The one place that maps errors to process exit codes. 0 = success, 1 = the check ran and found problems
 * (invalid manifest, files to stamp, signature rejected is ST below), 2 = usage. Everything else is per family so
 * scripts can tell a network outage from a bad signature without parsing text.
 */
export const EXIT = {
  OK: 0,
  CHECK_FAILED: 1,
  USAGE: 2,
  INPUT: 3,
  REGISTRY: 4,
  NETWORK: 5,
  SECURITY: 6,
  LIFECYCLE: 7,
  EXECUTION: 8,
  INTERNAL: 70,
} as const;

export const FAMILY_EXIT: Record<ErrorFamily, number> = {
  CI: EXIT.USAGE,
  SC: EXIT.CHECK_FAILED,
  MD: EXIT.INPUT,
  FS: EXIT.INPUT,
  RG: EXIT.REGISTRY,
  NE: EXIT.NETWORK,
  ST: EXIT.SECURITY,
  LC: EXIT.LIFECYCLE,
  EX: EXIT.EXECUTION,
};

export const EXIT_MEANINGS: Record<number, string> = {
  [EXIT.OK]: 'Success: nothing to report, or the work was done.',
  [EXIT.CHECK_FAILED]: 'The check ran and found problems (invalid manifest, files that need stamping).',
  [EXIT.USAGE]: 'Usage error: unknown flag, bad argument, invalid configuration (CI).',
  [EXIT.INPUT]: 'An input could not be read or processed (FS, MD).',
  [EXIT.REGISTRY]: 'The registry or store refused or lacks something (RG).',
  [EXIT.NETWORK]: 'The network failed: connection, TLS, timeout (NE).',
  [EXIT.SECURITY]: 'A security check failed: signature, digest, trust policy, key (ST).',
  [EXIT.LIFECYCLE]: 'A lifecycle step failed: install, lockfile, daemon state (LC).',
  [EXIT.EXECUTION]: 'Running a package failed: sandbox, limits, runtime (EX).',
  [EXIT.INTERNAL]: 'Internal error: a bug in aionctl (rerun with --debug and report it).',
};
