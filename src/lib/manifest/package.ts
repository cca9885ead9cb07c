import { join, resolve } from 'node:path';
import { AionError, isAionError } from '../errors/index.js';
import { DEFAULT_MODULE } from './cross.js';
import { type Diagnostic, formatDiagnostic } from './diagnostics.js';
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
 * Loads and fully validates a package directory (schema + the files it names); unlike `validate`, a missing module
 * (a warning there) is refused with SC014. Every later command (pack, run,
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
  // Warnings are fatal here: `validate` accepts a source tree whose module is not built yet, pack and run need it.
  const diagnostics = (source ? validateSource(source, 'agent-package') : parseErrors).map((d): Diagnostic =>
    d.code === 'SC020'
      ? {
          ...d,
          code: 'SC014',
          severity: undefined,
          message: d.message.replace(
            / does not exist yet: .*$/,
            ' does not exist in the package: build the module first',
          ),
        }
      : d,
  );
  if (diagnostics.length > 0) {
    const first = diagnostics[0]!;
    const more = diagnostics.length > 1 ? ` (and ${diagnostics.length - 1} more)` : '';
    throw new AionError(first.code, `invalid package: ${first.message}${more}`, {
      position: { file: first.file, line: first.line, col: first.col },
      hint: `run: aionctl validate ${dir}`,
      details: { diagnostics: diagnostics.map(formatDiagnostic) },
    });
  }
  const manifest = source!.data as AgentPackage;
  // runtime.module is optional: the returned manifest names the module in effect, so pack and run need no default.
  if (manifest.runtime.type === 'wasm' && manifest.runtime.module === undefined)
    manifest.runtime.module = DEFAULT_MODULE;
  return { dir: root, manifestPath, text, manifest };
}
