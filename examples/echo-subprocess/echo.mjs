#!/usr/bin/env node
// Reads one JSON document on stdin and writes {"echo": <document>} on stdout. Invalid JSON: a JSON error on
// stderr and exit 1, so the runner can tell a bad request from a crash.
let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => (input += chunk));
process.stdin.on('end', () => {
  let request;
  try {
    request = JSON.parse(input);
  } catch (err) {
    process.stderr.write(`${JSON.stringify({ error: 'invalid JSON input', detail: err.message })}\n`);
    process.exit(1);
  }
  process.stdout.write(`${JSON.stringify({ echo: request })}\n`);
});
