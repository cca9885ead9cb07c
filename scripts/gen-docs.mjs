#!/usr/bin/env node
// Regenerates docs/errors.md from the compiled error catalog (run `npm run build` first).
import { writeFileSync } from 'node:fs';
import { renderErrorsMarkdown } from '../dist/src/lib/errors/docs.js';

writeFileSync(new URL('../docs/errors.md', import.meta.url), renderErrorsMarkdown());
console.log('wrote docs/errors.md');
