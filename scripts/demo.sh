#!/usr/bin/env bash
# The main job end to end on the embedded default (no server): works on a scratch copy of examples/ under an
# isolated AIONCTL_HOME, so running it never touches your files or your real store.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d "${TMPDIR:-/tmp}/aionctl-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
export AIONCTL_HOME="$work/home"
aionctl() { node bin/run.js "$@"; }

cp -r examples "$work/examples"
echo "== aionctl config"
aionctl config

echo "== aionctl stamp: stamp a sample tree, then check it"
sample="$work/examples/stamp-sample"
repo=$(pwd)
in_sample() { (cd "$sample" && node "$repo/bin/run.js" "$@"); }
in_sample stamp --verbose
in_sample stamp --check # exits 1 (and stops the demo) if the first run left anything to stamp
echo "-- src/hello.py after stamping:"
head -n 24 "$sample/src/hello.py"
stamped=$(in_sample stamp --check --json | node -e 'const r=JSON.parse(require("fs").readFileSync(0,"utf8"));console.log(`${r.summary.unchanged} files carry a current block, ${r.summary.skipped} skipped`)')
echo "stamp summary: $stamped"
