import { EXIT } from '../exit-codes.js';
import type { ErrorCodeSpec } from '../types.js';

export const SC_CODES: readonly ErrorCodeSpec[] = [
  { code: 'SC001', summary: 'The file is not valid YAML (syntax error, several documents, bad indentation).' },
  { code: 'SC002', summary: 'A mapping holds the same key twice.' },
  { code: 'SC003', summary: 'The document kind cannot be told from apiVersion/kind or the file name.' },
  { code: 'SC004', summary: 'A required property is missing.' },
  { code: 'SC005', summary: 'A value has the wrong type (string where a number is needed...).' },
  { code: 'SC006', summary: 'A value is not one of the allowed values (enum or const).' },
  { code: 'SC007', summary: 'A value breaks a constraint: pattern, range, length, uniqueness, semver range.' },
  { code: 'SC008', summary: 'A property is not part of the schema (a typo, or a field in the wrong place).' },
  { code: 'SC009', summary: 'The document is hostile or too complex: too many aliases or nesting too deep.' },
  { code: 'SC010', summary: 'A name refers to something another file does not define (tier, intent).' },
  { code: 'SC011', summary: 'A route is unknown (not in policies latency targets or the default routes).' },
  { code: 'SC012', summary: 'A model uses a provider that policies.yml denies or does not allow.' },
  { code: 'SC013', summary: 'A module ref is not a valid OCI reference with a tag or digest.' },
  { code: 'SC014', summary: 'A file the manifest names is missing or lies outside the package.' },
  { code: 'SC015', summary: 'A file the manifest names is not what it must be (JSON Schema, wasm module).' },
  { code: 'SC016', summary: 'A local-only intent can reach a cloud tier or the api route.' },
  { code: 'SC017', summary: 'A file to create already exists (aionctl init without --force).' },
  {
    code: 'SC018',
    summary: 'A directory is not a package: it has no aip.yaml.',
    // Nothing to validate was found: unreadable input (exit 3), not an invalid manifest.
    exit: EXIT.INPUT,
  },
  {
    code: 'SC020',
    summary:
      'Warning: the module of a wasm package (runtime.module, default module.wasm) does not exist yet; pack and run refuse it.',
  },
  { code: 'SC021', summary: 'A package I/O schema is too large (over 1 MiB) or nests too deeply to compile.' },
];
