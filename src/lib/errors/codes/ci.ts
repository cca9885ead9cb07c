import type { ErrorCodeSpec } from '../types.js';

export const CI_CODES: readonly ErrorCodeSpec[] = [
  { code: 'CI001', summary: 'Unknown or invalid flag or argument (usage error).' },
  { code: 'CI002', summary: 'Flags that cannot be combined were given together.' },
  {
    code: 'CI003',
    summary: 'A required value (password, key, target) was not given and no TTY is available to prompt for it.',
  },
  { code: 'CI004', summary: 'The project or user configuration file (.aionctl.yaml, config.yaml) is invalid.' },
];
