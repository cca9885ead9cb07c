import type { ErrorCodeSpec } from '../types.js';

export const LC_CODES: readonly ErrorCodeSpec[] = [];
