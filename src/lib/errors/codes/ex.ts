import type { ErrorCodeSpec } from '../types.js';

export const EX_CODES: readonly ErrorCodeSpec[] = [
  { code: 'EX001', summary: 'Internal error (a bug in aionctl): rerun with --debug and report it.', exit: 70 },
  // aionctl run (issue 13): every failure of the run itself exits 8 with its own code.
  { code: 'EX010', summary: 'The run exceeded its timeout (`policies.timeout_ms` or `--timeout`) and was killed.' },
  {
    code: 'EX011',
    summary:
      'Memory cap: the module declares more memory than `runtime.resources.memory`, or it ran out of memory at the cap.',
  },
  {
    code: 'EX012',
    summary: 'No sandbox is available (bubblewrap missing, user namespaces disabled, not Linux): nothing was run.',
  },
  {
    code: 'EX013',
    summary: 'The sandbox denied the module something its permissions do not grant (a file, a directory, the network).',
  },
  { code: 'EX014', summary: 'The input does not match the package input schema: the module was not started.' },
  { code: 'EX015', summary: 'The module output is not JSON (raw output kept in the result envelope, size-capped).' },
  { code: 'EX016', summary: 'The module output does not match the package output schema.' },
  { code: 'EX017', summary: 'The module exited with a non-zero status (the status is in the result envelope).' },
  { code: 'EX018', summary: 'The module wrote more output than the output cap and was killed.' },
  {
    code: 'EX019',
    summary: 'A secret listed as required in `permissions.secrets` is not set: the module was not started.',
  },
  { code: 'EX020', summary: 'The package requires a GPU and none is available with enough free memory.' },
  {
    code: 'EX021',
    summary:
      'The WASM module imports something other than `wasi_snapshot_preview1` functions, or is not a valid module.',
  },
  { code: 'EX022', summary: 'The module hit the process limit (it kept forking) and was stopped.' },
  { code: 'EX023', summary: 'The module crashed: a WASM trap, or the process was killed by a signal.' },
  { code: 'EX024', summary: 'The module used up its CPU time limit and was killed.' },
  { code: 'EX025', summary: 'The run was cancelled (interrupted by the caller) and the module was killed.' },
  { code: 'EX026', summary: 'The input given to run (--input, --input-json or stdin) is not valid JSON.' },
  {
    code: 'EX027',
    summary: 'The package cannot run here: unsupported runtime, a WASM package requiring a GPU, or no `_start`.',
  },
  {
    code: 'EX028',
    summary: 'PACKAGE is not a package directory, an installed package or a reference that can be resolved.',
  },
  { code: 'EX029', summary: '`--dir` or `--env` asks for more than the package manifest permits.' },
  { code: 'EX030', summary: 'The run could not be started (the runtime or host process failed to start).' },
  {
    code: 'EX040',
    summary: "The daemon's run queue for this priority is full (HTTP 429): retry after the Retry-After delay.",
  },
  {
    code: 'EX041',
    summary:
      'The daemon is draining (stopping) and takes no new work (HTTP 503): retry, the client starts a fresh one.',
  },
  { code: 'EX042', summary: 'A daemon request body is over the size cap (HTTP 413).' },
  { code: 'EX043', summary: "A daemon request is malformed: not JSON, or fails the endpoint's schema (HTTP 400)." },
  {
    code: 'EX044',
    summary:
      'The daemon connection broke before an answer (daemon killed or crashed): rerun with --no-daemon or restart it.',
  },
  { code: 'EX045', summary: 'Unknown daemon route or run id (HTTP 404).' },
  { code: 'EX046', summary: 'No GPU with enough free memory became free in the daemon before the run timeout.' },
];
