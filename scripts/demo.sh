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
echo "== aionctl validate: the example packages and registry files"
aionctl validate "$work/examples"

echo "== aionctl pack (every example package) and copy to an oci: layout"
shopt -s nullglob
pkgs=()
for manifest in "$work"/examples/*/aip.yaml; do pkgs+=("$(dirname "$manifest")"); done
if [ ${#pkgs[@]} -eq 0 ]; then
  # no example packages yet: pack a minimal wasm package made on the fly
  mkdir -p "$work/pkg/schemas"
  printf '\0asm\1\0\0\0' >"$work/pkg/module.wasm"
  printf '{"type":"object"}\n' >"$work/pkg/schemas/input.json"
  printf 'apiVersion: aionos/v1\nkind: AgentPackage\nmetadata: {name: demo_agent, version: "0.1.0"}\nruntime: {type: wasm, module: module.wasm}\n' >"$work/pkg/aip.yaml"
  pkgs=("$work/pkg")
fi
for pkg in "${pkgs[@]}"; do
  packed=$(aionctl pack "$pkg" --json)
  ref=$(node -e 'console.log(JSON.parse(process.argv[1]).ref)' "$packed")
  digest=$(node -e 'console.log(JSON.parse(process.argv[1]).digest)' "$packed")
  echo "packed $ref $digest"
  copied=$(aionctl copy "$ref" "oci:$work/layout" --json)
  layout_digest=$(node -e 'console.log(JSON.parse(process.argv[1]).digest)' "$copied")
  echo "copied to oci:$work/layout -> $layout_digest"
  [ "$digest" = "$layout_digest" ] || { echo "digest mismatch for $ref" >&2; exit 1; }
  # pack is reproducible: packing again gives the same digest
  [ "$(aionctl pack "$pkg" 2>/dev/null)" = "$digest" ] || { echo "pack is not reproducible for $ref" >&2; exit 1; }
done
echo "store and layout digests match"

echo "== aionctl key generate / sign / verify (cosign format) on the store and an oci: layout"
export COSIGN_PASSWORD=demo-password
aionctl key generate --output-prefix "$work/cosign" >/dev/null
first_ref=$(node -e 'console.log(JSON.parse(process.argv[1]).ref)' "$(aionctl pack "${pkgs[0]}" --json)")
aionctl sign "$first_ref" --key "$work/cosign.key"
aionctl verify "$first_ref" --key "$work/cosign.pub" --json
layout_ref="oci:$work/layout:${first_ref##*:}"
aionctl sign "$layout_ref" --key "$work/cosign.key" --bundle
aionctl verify "$layout_ref" --key "$work/cosign.pub" >/dev/null
aionctl key generate --output-prefix "$work/other" >/dev/null
if aionctl verify "$first_ref" --key "$work/other.pub" 2>/dev/null; then
  echo "verify accepted a signature by another key" >&2
  exit 1
fi
echo "signatures verify with the signing key and are refused with another"

echo "== aionctl push to an oci: layout, pull it back with -o (embedded default, no server)"
pkg="${pkgs[0]}"
pushed=$(aionctl push "$pkg" "oci:$work/pushed:demo" --json)
push_digest=$(node -e 'console.log(JSON.parse(process.argv[1]).digest)' "$pushed")
echo "pushed $(node -e 'console.log(JSON.parse(process.argv[1]).ref)' "$pushed")"
# pull verifies against the trust policy by default: sign what was pushed and trust the demo key for it
aionctl sign "oci:$work/pushed:demo" --key "$work/cosign.key" >/dev/null
mkdir -p "$work/home-pull/config"
printf 'trust:\n  - match: "oci:%s/pushed"\n    keys: ["%s/cosign.pub"]\n' "$work" "$work" >"$work/home-pull/config/config.yaml"
pulled=$(AIONCTL_HOME="$work/home-pull" aionctl pull "oci:$work/pushed:demo" -o "$work/pulled" --json)
pull_digest=$(node -e 'console.log(JSON.parse(process.argv[1]).digest)' "$pulled")
node -e 'for (const f of JSON.parse(process.argv[1]).files) console.log(`  ${f.digest.slice(0, 19)}  ${f.size}\t${f.path}`)' "$pulled"
echo "pulled $pull_digest into a fresh store and $work/pulled"
[ "$push_digest" = "$pull_digest" ] || { echo "push/pull digest mismatch" >&2; exit 1; }
diff -r "$pkg" "$work/pulled" >/dev/null || { echo "pulled files differ from the package" >&2; exit 1; }
echo "push and pull digests match; files identical"

echo "== aionctl install: the example packages from an oci: folder (one layout per package), signed and trusted"
for pkg in "$work/examples/summarize-wasm" "$work/examples/echo-subprocess"; do
  name=$(node -e 'const y=require("fs").readFileSync(process.argv[1],"utf8");console.log(/^  name: (\S+)/m.exec(y)[1])' "$pkg/aip.yaml")
  version=$(node -e 'const y=require("fs").readFileSync(process.argv[1],"utf8");console.log(/^  version: "?([^"\s]+)/m.exec(y)[1])' "$pkg/aip.yaml")
  aionctl push "$pkg" "oci:$work/pkgs/$name:$version" >/dev/null
  aionctl sign "oci:$work/pkgs/$name:$version" --key "$work/cosign.key" >/dev/null
  echo "published and signed oci:$work/pkgs/$name:$version"
done
project="$work/project"
mkdir -p "$project"
cat >"$project/.aionctl.yaml" <<YAML
registry: "oci:$work/pkgs"
packages:
  summarize_text: ^1.3.0
  echo_json: ~0.2.0
trust:
  - match: "oci:$work/pkgs/*"
    keys: ["$work/cosign.pub"]
YAML
in_project() { (cd "$project" && node "$repo/bin/run.js" "$@"); }
in_project install
in_project ls
locked=$(cat "$project/aionctl.lock")
# a fresh machine: no store, no installed packages; the lockfile alone gives the same bytes
rm -rf "$AIONCTL_HOME/data/store" "$project/.aionctl"
CI=true in_project install >/dev/null
[ "$(cat "$project/aionctl.lock")" = "$locked" ] || { echo "install --frozen changed the lockfile" >&2; exit 1; }
diff -r "$work/examples/summarize-wasm" "$project/.aionctl/packages/summarize_text" >/dev/null ||
  { echo "installed files differ from the package" >&2; exit 1; }
in_project verify --lockfile aionctl.lock >/dev/null
echo "installed summarize_text and echo_json; a frozen reinstall gave identical files; the lockfile verifies"
unset COSIGN_PASSWORD

echo "== aionctl run: the examples in the sandbox, and the verified pulled artifact (envelope)"
chmod 755 "$work" # as root the sandbox runs as nobody, which must reach the package
aionctl run "$work/examples/summarize-wasm" --input-json '{"text":"hello big world"}'
echo '{"hello":"sandbox"}' | aionctl run "$work/examples/echo-subprocess"
AIONCTL_HOME="$work/home-pull" aionctl run "oci:$work/pushed:demo" --input-json '{"from":"a verified artifact"}' --json
echo "== aionctl run NAME: the installed package, by name, from the project (envelope)"
in_project run summarize_text --input-json '{"text":"installed, verified and run"}' --json
