#!/usr/bin/env node
// Development entry: same as run.js but with oclif's development mode (no manifest cache, verbose errors).
// Run `npm run build` (or `npx tsc -w`) first: commands are loaded from dist/.
import { execute } from '@oclif/core';

await execute({ development: true, dir: import.meta.url });
