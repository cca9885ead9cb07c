import { AionError, fsError } from '../errors/index.js';

/**
 * fsError with the cases stamp meets that the generic hints get wrong: a path too long for the file system is
 * FS016 ("shorten it"), not a permissions problem.
 */
export function stampFsError(err: unknown, path: string, action: 'read' | 'write' = 'read'): AionError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENAMETOOLONG') {
    return new AionError('FS016', `${path}: the path or a file name in it is too long for the file system`, {
      cause: err,
      position: { file: path },
      hint: 'shorten the name (most file systems allow 255 bytes per name, 4096 per path)',
    });
  }
  return fsError(err, path, action);
}
