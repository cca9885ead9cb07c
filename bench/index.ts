// `npm run bench`: prints ONE JSON object of named figures on stdout (progress goes to stderr). Each domain adds
// a module exporting `run(): Promise<Record<string, number | string>>` to BENCHES; figures are prefixed by name.
import { manifestBench } from './manifest.js';
import { startupBench } from './startup.js';
import { stampBench } from './stamp.js';
import { ociLocalBench } from './oci-local.js';
import { ociBench } from './oci.js';
import { signBench } from './sign.js';
import { packIgnoreBench } from './pack-ignore.js';
import { runBench } from './run.js';
import { installBench } from './install.js';
import { daemonBench } from './daemon.js';

type Bench = () => Promise<Record<string, number | string>>;

const BENCHES: Record<string, Bench> = {
  startup: startupBench,
  manifest: manifestBench,
  stamp: stampBench,
  'oci-local': ociLocalBench,
  oci: ociBench,
  sign: signBench,
  'pack-ignore': packIgnoreBench,
  run: runBench,
  install: installBench,
  daemon: daemonBench,
};

const only = process.argv.slice(2);
const figures: Record<string, number | string> = {};
for (const [name, bench] of Object.entries(BENCHES)) {
  if (only.length > 0 && !only.includes(name)) continue;
  process.stderr.write(`bench: ${name}...\n`);
  const result = await bench();
  for (const [key, value] of Object.entries(result)) figures[`${name}.${key}`] = value;
}
process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
