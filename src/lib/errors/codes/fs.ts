import type { ErrorCodeSpec } from '../types.js';

export const FS_CODES: readonly ErrorCodeSpec[] = [
  { code: 'FS001', summary: 'A path does not exist.' },
  { code: 'FS002', summary: 'A path could not be read (permissions, I/O error, is a directory).' },
  { code: 'FS003', summary: 'A file could not be written atomically (permissions, disk full, read-only file system).' },
  { code: 'FS004', summary: 'A file is not valid UTF-8 text or is binary where text is required.' },
  { code: 'FS005', summary: 'A file is larger than the limit for its kind.' },
  { code: 'FS006', summary: 'A lock could not be acquired (another aionctl process holds it).' },
  { code: 'FS007', summary: 'A path escapes its root (`..`, absolute path or symlink where none is allowed).' },
  { code: 'FS010', summary: 'An output directory (`pull -o`) exists and is not a directory.' },
];
