import type { ErrorObject } from 'ajv';
import type { Diagnostic } from './diagnostics.js';
import type { ErrorCode } from '../errors/index.js';
import type { PathSegment, SourceDocument } from './source.js';

function pointerToPath(pointer: string): PathSegment[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function where(path: PathSegment[]): string {
  return path.length === 0
    ? 'document'
    : path
        .map((s) => (typeof s === 'number' ? `[${s}]` : s))
        .join('.')
        .replace(/\.\[/g, '[');
}

/**
 * Turns ajv's errors into positioned diagnostics, one code per class of error. `if` errors are dropped: the
 * `then` branch's own error (a missing property) says what is wrong.
 */
export function schemaDiagnostics(source: SourceDocument, errors: readonly ErrorObject[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    if (error.keyword === 'if' || error.keyword === 'allOf' || error.keyword === '$ref') continue;
    const path = pointerToPath(error.instancePath);
    const params = error.params as Record<string, unknown>;
    let code: ErrorCode = 'SC007';
    let message: string;
    let key = false;
    let target = path;
    switch (error.keyword) {
      case 'required':
        code = 'SC004';
        message = `${where(path)}: missing required property "${String(params.missingProperty)}"`;
        break;
      case 'type':
        code = 'SC005';
        message = `${where(path)} must be ${String(params.type)}`;
        break;
      case 'enum':
        code = 'SC006';
        message = `${where(path)} must be one of: ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
        break;
      case 'const':
        code = 'SC006';
        message = `${where(path)} must be ${JSON.stringify(params.allowedValue)}`;
        if (error.instancePath === '/runtime/resources/gpu/required') {
          message += ': a wasm module cannot use a GPU (a package that needs one is runtime.type: subprocess)';
        }
        break;
      case 'additionalProperties':
        code = 'SC008';
        target = [...path, String(params.additionalProperty)];
        key = true;
        message = `${where(path)}: unknown property "${String(params.additionalProperty)}"`;
        break;
      case 'propertyNames':
        target = [...path, String(params.propertyName)];
        key = true;
        message = `${where(path)}: invalid name "${String(params.propertyName)}"`;
        break;
      case 'pattern':
        message = `${where(path)} ${JSON.stringify(valueAt(source.data, path))} does not match ${String(params.pattern)}`;
        break;
      default:
        message = `${where(path)} ${error.message ?? 'is invalid'}`;
    }
    const { line, col } = source.locate(target, { key });
    const id = `${line}:${col}:${code}:${message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push({ file: source.file, line, col, code, message, pointer: error.instancePath });
  }
  // propertyNames reports the name error twice (pattern + propertyNames): keep the positioned name error.
  return out.filter(
    (d) =>
      !(
        d.code === 'SC007' &&
        d.message.includes('does not match') &&
        out.some((o) => o !== d && o.message.includes('invalid name') && o.line === d.line)
      ),
  );
}

export function valueAt(data: unknown, path: readonly PathSegment[]): unknown {
  let value = data;
  for (const segment of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[segment as string];
  }
  return value;
}
