import type { ErrorCodeSpec } from '../types.js';

export const NE_CODES: readonly ErrorCodeSpec[] = [];
