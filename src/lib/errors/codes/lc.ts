import type { ErrorCodeSpec } from '../types.js';

/** Lifecycle: install, lockfile, installed packages. */
export const LC_CODES: readonly ErrorCodeSpec[] = [
  { code: 'LC001', summary: 'No version of a package satisfies a range (the message lists the versions that exist).' },
  {
    code: 'LC002',
    summary: 'Two ranges on one package cannot be met by one version (the message shows both paths from the root).',
  },
  { code: 'LC003', summary: 'The packages depend on each other in a cycle (the message shows the cycle).' },
  { code: 'LC004', summary: 'A range is not valid semver, or the dependency graph does not settle.' },
  {
    code: 'LC005',
    summary: 'The lockfile would change under --frozen (the default when CI is set): run `aionctl install` and commit.',
  },
  { code: 'LC006', summary: 'aionctl.lock is malformed or from an unknown lockfile version.' },
  {
    code: 'LC007',
    summary: 'The `registry` or `packages` section of .aionctl.yaml (or a NAME@RANGE argument) is invalid.',
  },
  { code: 'LC008', summary: 'The package is not declared in .aionctl.yaml or not installed.' },
  { code: 'LC009', summary: 'A fetched package is not an agent package or its dependencies are malformed.' },
  { code: 'LC010', summary: 'A modules.yml file is not a list of {name, ref} modules.' },
  {
    code: 'LC011',
    summary: 'There is no .aionctl.yaml project here: create one with `aionctl init` or name packages.',
  },
  { code: 'LC012', summary: 'Another install is running in this project (its lock is held).' },
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
    summary:
      'The daemon section of the configuration is invalid (an unknown key or a value out of range; see docs/daemon.md).',
  },
];
