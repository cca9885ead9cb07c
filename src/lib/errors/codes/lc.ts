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
];
