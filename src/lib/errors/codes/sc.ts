import type { ErrorCodeSpec } from '../types.js';

export const SC_CODES: readonly ErrorCodeSpec[] = [];
