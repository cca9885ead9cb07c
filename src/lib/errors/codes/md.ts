import { EXIT } from '../exit-codes.js';
import type { ErrorCodeSpec } from '../types.js';

export const MD_CODES: readonly ErrorCodeSpec[] = [
  { code: 'MD001', summary: 'The metadata block has an opener but no closer.' },
  { code: 'MD002', summary: 'The file holds two metadata block openers.' },
  { code: 'MD003', summary: 'The metadata block is not valid YAML or not a mapping.' },
  { code: 'MD004', summary: 'A metadata field has an invalid value (uuid, hash, timestamp, lifecycle...).' },
  { code: 'MD005', summary: 'A value cannot be written inside this comment style (it would close the comment).' },
  {
    code: 'MD006',
    summary:
      'The file type is not stampable (unknown type, binary, generated, JSON or lock file); fatal only under --strict.',
  },
  // A duplicate is a finding of the check (like a stale hash), not a file that could not be processed: exit 1.
  {
    code: 'MD007',
    summary: 'Two files carry the same metadata uuid (a copied file): give one a fresh uuid.',
    exit: EXIT.CHECK_FAILED,
  },
];
