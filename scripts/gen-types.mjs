#!/usr/bin/env node
// Regenerates src/lib/manifest/types.generated.ts from manifests/*.schema.json (run `npm run build` first).
import { writeFileSync } from 'node:fs';
import { KIND_NAMES, schemaFor } from '../dist/src/lib/manifest/index.js';
import { generateTypes } from '../dist/src/lib/manifest/typegen.js';

writeFileSync(
  new URL('../src/lib/manifest/types.generated.ts', import.meta.url),
  generateTypes(KIND_NAMES.map((kind) => schemaFor(kind))),
);
console.log('wrote src/lib/manifest/types.generated.ts');
