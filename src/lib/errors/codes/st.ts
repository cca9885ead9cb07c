import type { ErrorCodeSpec } from '../types.js';

export const ST_CODES: readonly ErrorCodeSpec[] = [];
