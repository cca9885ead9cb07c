import { CATALOG } from './catalog.js';
import { EXIT, FAMILY_EXIT } from './exit-codes.js';
import type { ErrorCode } from './codes.generated.js';
import type { ErrorCodeSpec, ErrorFamily } from './types.js';

export { CATALOG } from './catalog.js';
export { EXIT, EXIT_MEANINGS, FAMILY_EXIT } from './exit-codes.js';
export type { ErrorCode } from './codes.generated.js';
export type { ErrorCodeSpec, ErrorFamily } from './types.js';

const BY_CODE = new Map<string, ErrorCodeSpec>(
  Object.values(CATALOG).flatMap((specs) => specs.map((s) => [s.code, s])),
);

/** Where in a file an error points, 1-based like editors and tsc. */
export interface SourcePosition {
  file: string;
  line?: number;
  col?: number;
}

export interface AionErrorOptions {
  hint?: string;
  cause?: unknown;
  position?: SourcePosition;
  /** Machine-readable extras for --json output (never secrets). */
  details?: Record<string, unknown>;
}

/**
 * An expected failure the user can act on. Anything else thrown is a bug and is rendered as EX001 with a stack
 * only under --debug.
 */
export class AionError extends Error {
  readonly code: ErrorCode;
  readonly hint?: string;
  readonly position?: SourcePosition;
  readonly details?: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: AionErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    if (!BY_CODE.has(code))
      throw new Error(`AionError: code ${code} is not in the catalog (src/lib/errors/catalog.ts)`);
    this.name = 'AionError';
    this.code = code;
    this.hint = options.hint;
    this.position = options.position;
    this.details = options.details;
  }

  get family(): ErrorFamily {
    return this.code.slice(0, 2) as ErrorFamily;
  }

  get exitCode(): number {
    return exitCodeFor(this.code);
  }

  /** `file:line:col` prefix when the error points into a file. */
  get location(): string | undefined {
    return formatPosition(this.position);
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      ...(this.hint ? { hint: this.hint } : {}),
      ...(this.position ? { position: this.position } : {}),
      ...(this.details ? { details: this.details } : {}),
    };
  }
}

export function isAionError(value: unknown): value is AionError {
  return value instanceof AionError;
}

/** Whether `err` is a catalogued "does not exist" answer (`notFound: true`), e.g. no signature tag yet. */
export function isNotFoundError(err: unknown): boolean {
  return isAionError(err) && BY_CODE.get(err.code)?.notFound === true;
}

export function exitCodeFor(code: string): number {
  const spec = BY_CODE.get(code);
  if (spec?.exit !== undefined) return spec.exit;
  const family = code.slice(0, 2) as ErrorFamily;
  return FAMILY_EXIT[family] ?? EXIT.INTERNAL;
}

export function formatPosition(position: SourcePosition | undefined): string | undefined {
  if (!position) return undefined;
  if (position.line === undefined) return position.file;
  return `${position.file}:${position.line}:${position.col ?? 1}`;
}

/** Turns a Node fs error into the matching FS error, keeping the original as cause. */
export function fsError(err: unknown, path: string, action: 'read' | 'write' = 'read'): AionError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT')
    return new AionError('FS001', `${path} does not exist`, { cause: err, hint: 'check the path' });
  if (action === 'write') {
    return new AionError('FS003', `cannot write ${path}: ${code ?? String(err)}`, {
      cause: err,
      hint: 'check permissions and free disk space',
    });
  }
  return new AionError('FS002', `cannot read ${path}: ${code ?? String(err)}`, {
    cause: err,
    hint: code === 'EISDIR' ? 'pass a file, not a directory' : 'check permissions',
  });
}
