#!/usr/bin/env bash
# Build an offline install bundle on a machine that has the npm registry: the built
# program with its runtime node_modules (native addons included) for THIS machine's
# platform, architecture and Node ABI. Install it on a gateway without the internet:
#
#   npm ci && npm run build && scripts/bundle.sh          # on a box like the gateway (e.g. a Pi, same Node major)
#   scp fieldgate-*.tar.gz pi@gateway:
#   tar -xzf fieldgate-*.tar.gz && sudo fieldgate-*/scripts/install.sh --bundle fieldgate-*.tar.gz
#
# Options:
#   --source DIR   the built checkout (default: this script's checkout); needs dist/ and node_modules/
#   --out FILE     the bundle to write (default ./fieldgate-VERSION-PLATFORM-ARCH-nodeABI.tar.gz)
# Reads only the local node_modules (npm ls, no network); prints the bundle's path.
set -euo pipefail

SOURCE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT=
die() { echo "bundle.sh: $*" >&2; exit 1; }
say() { echo "bundle.sh: $*" >&2; }

while [ $# -gt 0 ]; do
  case "$1" in
    --source) SOURCE="$(cd "${2:?--source needs a directory}" && pwd)"; shift 2 ;;
    --out) OUT="${2:?--out needs a file}"; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done

[ -f "$SOURCE/dist/src/cli/main.js" ] || die "$SOURCE has no build: run npm ci && npm run build first"
[ -d "$SOURCE/node_modules" ] || die "$SOURCE has no node_modules: run npm ci first"

cd "$SOURCE"
name="$(node -p "'fieldgate-' + require('./package.json').version + '-' + process.platform + '-' + process.arch + '-node' + process.versions.modules")"
OUT="${OUT:-$PWD/$name.tar.gz}"
stage_root="$(mktemp -d)"
trap 'rm -rf "$stage_root"' EXIT
stage="$stage_root/$name"
mkdir -p "$stage/scripts" "$stage/dist"

cp -a package.json package-lock.json bin config rules systemd docs "$stage/"
cp -a dist/src dist/drivers "$stage/dist/"
cp -a scripts/install.sh scripts/bundle.sh "$stage/scripts/"

# The runtime dependency tree as npm resolved it here (no dev dependencies), copied
# as it is: its native addons are built for this Node ABI and architecture.
deps="$(npm ls --omit=dev --all --parseable 2>/dev/null | sed -n "s#^$SOURCE/##p")" || true
[ -n "$deps" ] || die "npm ls found no runtime dependencies in $SOURCE/node_modules (run npm ci)"
while IFS= read -r dep; do
  [ -d "$stage/$dep" ] && continue # inside a package copied already
  mkdir -p "$stage/$(dirname "$dep")"
  cp -a "$dep" "$stage/$dep"
done <<<"$deps"

# Prove the bundle runs with this Node: the CLI, SQLite's addon, the config loader.
(cd "$stage" && node bin/fieldgate.js --version >/dev/null && node -e "new (require('better-sqlite3'))(':memory:').close()") ||
  die "the staged bundle does not run with this node ($(node --version)); is node_modules built for it (npm rebuild)?"

node -e "
const fs = require('fs');
const b = { name: '$name', version: require('./package.json').version, platform: process.platform, arch: process.arch,
  nodeAbi: process.versions.modules, node: process.version, lock: require('crypto').createHash('sha256').update(fs.readFileSync('package-lock.json')).digest('hex') };
fs.writeFileSync('$stage/bundle.json', JSON.stringify(b, null, 2) + '\n');"

tar -czf "$OUT" -C "$stage_root" "$name"
say "wrote $OUT ($(du -h "$OUT" | cut -f1)); install it with: sudo scripts/install.sh --bundle $(basename "$OUT")"
echo "$OUT"
