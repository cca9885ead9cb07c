import type { ErrorCodeSpec } from '../types.js';

export const EX_CODES: readonly ErrorCodeSpec[] = [
  { code: 'EX001', summary: 'Internal error (a bug in aionctl): rerun with --debug and report it.', exit: 70 },
];
