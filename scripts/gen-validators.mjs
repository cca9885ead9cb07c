// Build step (after tsc): ajv standalone validators for the manifest schemas in manifests/ and for the JSON Schema
// 2020-12 meta-schema, so `validate` loads ready code instead of generating it at every start. The module records
// the digest of its inputs; src/lib/manifest/schemas.ts falls back to compiling when it is missing or stale, and
// test/manifest/standalone.test.ts fails when it drifts from manifests/*.json.
import { writeFileSync, renameSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { generateValidatorsCode } = await import('../dist/src/lib/manifest/schemas.js');
const out = require.resolve('../dist/src/lib/manifest/schemas.js').replace(/schemas\.js$/, 'validators.generated.cjs');
writeFileSync(`${out}.tmp`, generateValidatorsCode());
renameSync(`${out}.tmp`, out);
