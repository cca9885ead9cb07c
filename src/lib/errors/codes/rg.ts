import type { ErrorCodeSpec } from '../types.js';

export const RG_CODES: readonly ErrorCodeSpec[] = [];
