import type { ErrorCodeSpec } from '../types.js';

export const EX_CODES: readonly ErrorCodeSpec[] = [
  { code: 'EX001', summary: 'Internal error (a bug in aionctl): rerun with --debug and report it.', exit: 70 },
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
  { code: 'EX046', summary: 'A warm host process crashed or ran past the run timeout; it was killed and replaced.' },
  { code: 'EX047', summary: 'The module exited with a non-zero status (its code is in the envelope).' },
  {
    code: 'EX048',
    summary: "The module's output is not JSON or fails the package's output schema (raw output kept, size-capped).",
  },
  { code: 'EX049', summary: "The run input fails the package's input schema; the module was not started." },
  {
    code: 'EX050',
    summary:
      "The package cannot run in the daemon's runner (unsupported runtime or module imports outside wasi_snapshot_preview1).",
  },
  { code: 'EX051', summary: 'No GPU with enough free memory became free before the run timeout.' },
];
