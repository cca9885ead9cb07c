import { existsSync } from 'node:fs';
import { chmod, mkdir } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../lib/cli/index.js';
import { AionError } from '../lib/errors/index.js';
import { writeFileAtomic } from '../lib/fs/index.js';
import {
  loadPackage,
  PACKAGE_NAME_PATTERN,
  packageNameFrom,
  scaffoldPackage,
  type ScaffoldRuntime,
} from '../lib/manifest/index.js';

export interface InitResult {
  dir: string;
  name: string;
  runtime: ScaffoldRuntime;
  files: string[];
}

export default class Init extends BaseCommand {
  static override summary = 'Create a new agent package (wasm or subprocess) that passes `aionctl validate`.';
  static override description =
    'Writes aip.yaml, input/output JSON Schemas and a runnable entry point (a WASI module printing {"ok":true}, or a node script) into DIR. Existing files are never overwritten unless --force is given.';
  static override examples = [
    '<%= config.bin %> init my-agent',
    '<%= config.bin %> init my-agent --runtime subprocess --name my_agent',
  ];
  static override args = {
    dir: Args.string({ description: 'Directory of the new package (created if missing).', default: '.' }),
  };
  static override flags = {
    runtime: Flags.string({
      char: 'r',
      description: 'How the package runs.',
      options: ['wasm', 'subprocess'],
      default: 'wasm',
    }),
    name: Flags.string({ char: 'n', description: 'Package name (default: from the directory name).' }),
    force: Flags.boolean({ char: 'f', description: 'Overwrite existing files.' }),
  };

  async run(): Promise<InitResult> {
    const { args, flags } = await this.parse(Init);
    const dir = resolve(args.dir);
    const name = flags.name ?? packageNameFrom(basename(dir));
    if (!PACKAGE_NAME_PATTERN.test(name)) {
      throw new AionError('CI001', `"${name}" is not a valid package name`, {
        hint: 'use lowercase letters and digits separated by ".", "_" or "-"',
      });
    }
    const runtime = flags.runtime as ScaffoldRuntime;
    const files = scaffoldPackage(name, runtime);
    const existing = files.filter((f) => existsSync(join(dir, f.path))).map((f) => f.path);
    if (existing.length > 0 && !flags.force) {
      throw new AionError('SC017', `${dir} already has ${existing.join(', ')}`, {
        hint: 'pick another directory, or pass --force to overwrite',
      });
    }
    for (const file of files) {
      const path = join(dir, file.path);
      await mkdir(dirname(path), { recursive: true });
      await writeFileAtomic(path, file.content, { mode: file.mode ?? 0o644 });
      if (file.mode) await chmod(path, file.mode);
    }
    loadPackage(dir); // the promise of init: what it writes validates
    for (const file of files) this.log(`created ${join(args.dir, file.path)}`);
    this.diag(`next: aionctl validate ${args.dir} && aionctl pack ${args.dir}`);
    return { dir, name, runtime, files: files.map((f) => f.path) };
  }
}
