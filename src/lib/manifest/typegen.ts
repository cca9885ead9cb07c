/**
 * Emits TypeScript types from the JSON Schemas in manifests/, so the schemas are the one source of truth
 * (`npm run gen:types` writes src/lib/manifest/types.generated.ts; a test fails when it is stale). Handles the
 * subset our schemas use: $ref to $defs, const, enum, objects, arrays, additionalProperties, primitives.
 */
type Schema = Record<string, unknown>;

const PRIMITIVES: Record<string, string> = {
  string: 'string',
  integer: 'number',
  number: 'number',
  boolean: 'boolean',
  null: 'null',
};

function doc(schema: Schema, indent: string): string {
  const text = typeof schema.description === 'string' ? schema.description : undefined;
  return text ? `${indent}/** ${text.replace(/\*\//g, '*\\/')} */\n` : '';
}

function typeOf(schema: Schema | boolean | undefined, indent: string): string {
  if (schema === undefined || schema === true) return 'unknown';
  if (schema === false) return 'never';
  if (typeof schema.$ref === 'string') return schema.$ref.replace('#/$defs/', '');
  if ('const' in schema) return JSON.stringify(schema.const);
  if (Array.isArray(schema.enum)) return schema.enum.map((v) => JSON.stringify(v)).join(' | ');
  const type = schema.type;
  if (type === 'array') return `${wrap(typeOf(schema.items as Schema, indent))}[]`;
  if (type === 'object' || schema.properties || schema.additionalProperties !== undefined)
    return objectType(schema, indent);
  if (typeof type === 'string' && PRIMITIVES[type]) return PRIMITIVES[type]!;
  return 'unknown';
}

const wrap = (t: string) => (t.includes('|') ? `(${t})` : t);

function objectType(schema: Schema, indent: string): string {
  const props = (schema.properties ?? {}) as Record<string, Schema>;
  const required = new Set((schema.required ?? []) as string[]);
  const inner = `${indent}  `;
  const lines = Object.entries(props).map(
    ([name, prop]) =>
      `${doc(prop, inner)}${inner}${/^[A-Za-z_$][\w$]*$/.test(name) ? name : JSON.stringify(name)}${required.has(name) ? '' : '?'}: ${typeOf(prop, inner)};`,
  );
  const extra = schema.additionalProperties;
  if (extra !== false && extra !== undefined) {
    // Optional named properties are `T | undefined`, which the index signature must admit.
    const optional = Object.keys(props).some((name) => !required.has(name));
    const value = typeOf(extra as Schema | boolean, inner);
    lines.push(`${inner}[key: string]: ${optional && value !== 'unknown' ? `${value} | undefined` : value};`);
  }
  if (lines.length === 0) return extra === false ? 'Record<string, never>' : 'Record<string, unknown>';
  return `{\n${lines.join('\n')}\n${indent}}`;
}

/** One module of exported types for all schemas (top-level by title, then every $def by name). */
export function generateTypes(schemas: readonly Schema[]): string {
  const out = [
    '// Generated from manifests/*.schema.json by `npm run gen:types`. Do not edit: change the schema instead.',
    '',
  ];
  for (const schema of schemas) {
    out.push(`${doc(schema, '')}export type ${String(schema.title)} = ${typeOf(schema, '')};`, '');
    for (const [name, def] of Object.entries((schema.$defs ?? {}) as Record<string, Schema>)) {
      out.push(`${doc(def, '')}export type ${name} = ${typeOf(def, '')};`, '');
    }
  }
  return out.join('\n');
}
