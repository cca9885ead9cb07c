import { join, resolve } from 'node:path';
import { AionError, isAionError } from '../errors/index.js';
import { formatDiagnostic } from './diagnostics.js';
import type { AgentPackage } from './types.generated.js';
import { parseSource, readManifestText } from './source.js';
import { validateSource } from './validate.js';

export const PACKAGE_MANIFEST = 'aip.yaml';

export interface LoadedPackage {
  /** Absolute package directory. */
  dir: string;
  manifestPath: string;
  /** The raw aip.yaml text (packed as-is so pull gives back the original file). */
  text: string;
  manifest: AgentPackage;
}

/**
 * Loads and fully validates a package directory (schema + the files it names). Every later command (pack, run,
 * install) reads packages through this. Throws SC (invalid, with the first problem's position and the count) or
 * FS (unreadable) errors.
 */
export function loadPackage(dir: string): LoadedPackage {
  const root = resolve(dir);
  const manifestPath = join(root, PACKAGE_MANIFEST);
  let text: string;
  try {
    text = readManifestText(manifestPath);
  } catch (err) {
    if (isAionError(err) && err.code === 'FS001') {
      throw new AionError('SC018', `${dir} is not a package: ${PACKAGE_MANIFEST} is missing`, {
        hint: 'run aionctl init to create one',
        cause: err,
      });
    }
    throw err;
  }
  const { source, diagnostics: parseErrors } = parseSource(manifestPath, text);
  const diagnostics = source ? validateSource(source, 'agent-package') : parseErrors;
  if (diagnostics.length > 0) {
    const first = diagnostics[0]!;
    const more = diagnostics.length > 1 ? ` (and ${diagnostics.length - 1} more)` : '';
    throw new AionError(first.code, `invalid package: ${first.message}${more}`, {
      position: { file: first.file, line: first.line, col: first.col },
      hint: `run: aionctl validate ${dir}`,
      details: { diagnostics: diagnostics.map(formatDiagnostic) },
    });
  }
  return { dir: root, manifestPath, text, manifest: source!.data as AgentPackage };
}
