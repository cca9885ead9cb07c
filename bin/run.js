#!/usr/bin/env node
// Production entry: loads compiled commands through oclif.manifest.json (no command scan at start-up).
import { execute } from '@oclif/core';

await execute({ dir: import.meta.url });
