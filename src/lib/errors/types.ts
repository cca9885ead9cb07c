/** The ONEX error families. Each family has a default exit code (see exit-codes.ts). */
export type ErrorFamily = 'SC' | 'MD' | 'FS' | 'RG' | 'ST' | 'LC' | 'NE' | 'CI' | 'EX';

/** One catalogued error code: stable forever once released. */
export interface ErrorCodeSpec {
  /** e.g. `MD003`: family prefix + three digits. */
  readonly code: string;
  /** One line: when this error happens. Shown in docs/errors.md. */
  readonly summary: string;
  /** Overrides the family's exit code (rare; say why next to the entry). */
  readonly exit?: number;
  /** A "does not exist" answer (a missing tag, manifest or repository), not a failure of the operation. */
  readonly notFound?: boolean;
}
