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
