#!/usr/bin/env bash
# Install (or upgrade, or remove) fieldgate as a systemd service on Raspberry Pi OS / Debian.
#
#   sudo scripts/install.sh                  install or upgrade from this checkout
#   sudo scripts/install.sh --bundle FILE    install from an offline bundle (scripts/bundle.sh), no network
#   sudo scripts/install.sh --uninstall      remove program and units; keep /etc/fieldgate and /var/lib/fieldgate
#   sudo scripts/install.sh --uninstall --purge   also remove config, data, drop-ins, and the user and groups it created
#
# The service is started only on a config that passes `fieldgate config check`, and
# never on the example it has just copied: then it prints the next steps instead.
# Idempotent: a second run changes nothing. The engineer's config and rules are
# never overwritten: examples are copied only where no file exists yet.
# Needs the internet only without --bundle, and only when there is something to
# build or fetch (npm ci); everything it needs is checked before anything is changed.
#
# Options:
#   --prefix DIR     where the program goes (default /opt/fieldgate)
#   --root DIR       install under DIR instead of / (tests, image builds); users and groups
#                    are made in DIR/etc (useradd --prefix) when DIR/etc/passwd exists
#   --source DIR     the built checkout to install from (default: this script's checkout)
#   --bundle FILE    install from FILE, a bundle made by scripts/bundle.sh (with node_modules)
#   --no-systemctl   do not call systemctl (no daemon-reload/enable/start)
#   --no-npm         do not run npm (no build, no npm ci --omit=dev in the prefix)
#   --no-users       do not create groups or the fieldgate user
set -euo pipefail

PREFIX=/opt/fieldgate
ROOT=/
SOURCE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUNDLE=
SYSTEMCTL=1
NPM=1
USERS=1
ACTION=install
PURGE=0
SERVICE_USER=fieldgate
CHANGES=0
FRESH_CONFIG=0
CONFIG_OK=0
NOT_STARTED=0
UNITS=(fieldgate.service fieldgate-recover.timer fieldgate-recover.service)
DROPIN_NAME=50-fieldgate-drivers.conf

die() { echo "install.sh: $*" >&2; exit 1; }
say() { echo "install.sh: $*"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) PREFIX="${2:?--prefix needs a directory}"; shift 2 ;;
    --root) ROOT="${2:?--root needs a directory}"; shift 2 ;;
    --source) SOURCE="$(cd "${2:?--source needs a directory}" && pwd)"; shift 2 ;;
    --bundle) BUNDLE="${2:?--bundle needs a file}"; shift 2 ;;
    --no-systemctl) SYSTEMCTL=0; shift ;;
    --no-npm) NPM=0; shift ;;
    --no-users) USERS=0; shift ;;
    --uninstall) ACTION=uninstall; shift ;;
    --purge) PURGE=1; shift ;;
    -h|--help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done

ROOT="$(realpath -m "$ROOT")" # absolute: config check runs from /
ROOT="${ROOT%/}"
if [ "$PURGE" = 1 ] && [ "$ACTION" != uninstall ]; then die "--purge only goes with --uninstall"; fi
[ "$(id -u)" = 0 ] || [ "$ROOT" != "" ] || die "run as root (sudo $0 $*)"
# Under --root, users and groups go into DIR/etc only when it is a system tree.
if [ "$ROOT" != "" ] && [ ! -f "$ROOT/etc/passwd" ]; then USERS=0; fi
SHADOW_ARGS=()
if [ "$ROOT" != "" ]; then SHADOW_ARGS=(--prefix "$ROOT"); fi

ETC="$ROOT/etc/fieldgate"
STATE="$ROOT/var/lib/fieldgate"
UNIT_DIR="$ROOT/etc/systemd/system"
UNIT="$UNIT_DIR/fieldgate.service"
DROPIN_DIR="$UNIT_DIR/fieldgate.service.d"
BIN_LINK="$ROOT/usr/local/bin/fieldgate"
APP="$ROOT$PREFIX"
# What this script created (users, groups), so --purge removes exactly that.
RECORD="$ETC/.install-record"

# --- users and groups, read from the files of the tree being installed into ---
group_exists() { grep -q "^$1:" "$ROOT/etc/group" 2>/dev/null; }
user_exists() { [ "$USERS" = 1 ] && grep -q "^$SERVICE_USER:" "$ROOT/etc/passwd" 2>/dev/null; }
group_members() { awk -F: -v g="$1" '$1 == g { print $4 }' "$ROOT/etc/group"; }
# Numeric ids from the tree's own files (chown by name would ask the running system).
uid_of() { awk -F: -v u="$1" '$1 == u { print $3 }' "$ROOT/etc/passwd"; }
gid_of() { awk -F: -v g="$1" '$1 == g { print $3 }' "$ROOT/etc/group"; }
record() { mkdir -p "$ETC"; grep -qx "$1" "$RECORD" 2>/dev/null || echo "$1" >>"$RECORD"; }

# Copy one file when absent or different; $3 = mode. Counts changes.
put_file() {
  local src="$1" dst="$2" mode="$3"
  if [ -f "$dst" ] && cmp -s "$src" "$dst" && [ "$(stat -c %a "$dst")" = "${mode#0}" ]; then return 0; fi
  install -D -m "$mode" "$src" "$dst"
  CHANGES=$((CHANGES + 1))
}

# Copy an example only when the engineer has no file there yet.
put_example() {
  local src="$1" dst="$2"
  [ -e "$dst" ] && return 1
  install -D -m 0640 "$src" "$dst"
  if user_exists; then chgrp "$(gid_of "$SERVICE_USER")" "$dst"; fi
  say "created $dst from $(basename "$src")"
  CHANGES=$((CHANGES + 1))
}

# Mirror a directory tree of the source into the prefix (files only, changed ones).
put_tree() {
  local rel="$1" f
  [ -d "$SOURCE/$rel" ] || return 0
  while IFS= read -r -d '' f; do
    local mode=0644
    if [ -x "$SOURCE/$f" ]; then mode=0755; fi
    put_file "$SOURCE/$f" "$APP/$f" "$mode"
  done < <(cd "$SOURCE" && find "$rel" -type f -print0 | sort -z)
}

make_dir() {
  local dir="$1" mode="$2"
  if [ ! -d "$dir" ]; then
    install -d -m "$mode" "$dir"
    CHANGES=$((CHANGES + 1))
  elif [ "$(stat -c %a "$dir")" != "${mode#0}" ]; then
    chmod "$mode" "$dir"
    CHANGES=$((CHANGES + 1))
  fi
}

# --- before anything is changed: what this install needs, and whether it is there ---
BUNDLE_DIR=
cleanup() { if [ -n "$BUNDLE_DIR" ]; then rm -rf "$BUNDLE_DIR"; fi; }
trap cleanup EXIT

node_fact() { node -p "$1" 2>/dev/null; }

preflight() {
  command -v node >/dev/null || die "node is not installed; fieldgate needs Node.js 20 or newer (Debian bookworm's nodejs is 18: use NodeSource's or the official arm64/armhf build)"
  local major
  major="$(node_fact 'process.versions.node.split(".")[0]')"
  [ "${major:-0}" -ge 20 ] || die "node $(node --version) is too old; fieldgate needs Node.js 20 or newer"
  if [ -n "$BUNDLE" ]; then
    [ -f "$BUNDLE" ] || die "bundle $BUNDLE does not exist"
    BUNDLE_DIR="$(mktemp -d)"
    tar -xzf "$BUNDLE" -C "$BUNDLE_DIR" || die "$BUNDLE is not a readable bundle (a .tar.gz from scripts/bundle.sh)"
    local top
    top="$(find "$BUNDLE_DIR" -mindepth 1 -maxdepth 1 -type d | head -n 1)"
    [ -n "$top" ] && [ -f "$top/bundle.json" ] || die "$BUNDLE has no bundle.json: not made by scripts/bundle.sh"
    local want have
    want="$(node -p "const b = require('$top/bundle.json'); b.platform + '-' + b.arch + ', Node ABI ' + b.nodeAbi")"
    have="$(node_fact "process.platform + '-' + process.arch + ', Node ABI ' + process.versions.modules")"
    [ "$want" = "$have" ] || die "$BUNDLE was built for $want but this machine is $have (node $(node --version)); build the bundle on a machine like this one (same architecture and Node major version)"
    SOURCE="$top"
    NPM=0
    say "installing from bundle $BUNDLE ($have), without the network"
    return 0
  fi
  [ "$APP" != "$SOURCE" ] || return 0
  if [ ! -f "$SOURCE/dist/src/cli/main.js" ] && [ "$NPM" = 0 ]; then
    die "$SOURCE has no build (dist/); run npm ci && npm run build there first, or install from a bundle (--bundle)"
  fi
  if [ "$NPM" = 1 ]; then
    command -v npm >/dev/null || die "npm is not installed (it comes with Node.js); or install from a bundle (--bundle FILE)"
    # npm ci fetches packages and builds native addons (better-sqlite3, serialport).
    if [ "${npm_config_offline:-}" != true ] && ! npm ping --fetch-retries=0 --fetch-timeout=15000 >/dev/null 2>&1; then
      die "the npm registry is not reachable, and installing from a checkout needs it (npm ci). Without the internet: on a machine with the same architecture and Node version run scripts/bundle.sh, copy the .tar.gz here, then: sudo scripts/install.sh --bundle FILE"
    fi
  fi
}

ensure_users() {
  [ "$USERS" = 1 ] || { say "skipping users and groups (--no-users, or --root without etc/passwd)"; return 0; }
  local g
  # The unit's SupplementaryGroups= must all exist or the service cannot start.
  for g in dialout gpio; do
    if ! group_exists "$g"; then
      groupadd "${SHADOW_ARGS[@]}" --system "$g"
      record "group $g"
      say "created system group $g"
      CHANGES=$((CHANGES + 1))
    fi
  done
  if ! grep -q "^$SERVICE_USER:" "$ROOT/etc/passwd"; then
    useradd "${SHADOW_ARGS[@]}" --system --user-group --home-dir /var/lib/fieldgate --no-create-home \
      --shell /usr/sbin/nologin --comment "fieldgate gateway daemon" "$SERVICE_USER"
    record "user $SERVICE_USER"
    record "group $SERVICE_USER"
    say "created system user $SERVICE_USER"
    CHANGES=$((CHANGES + 1))
  fi
  for g in dialout gpio; do
    if ! group_members "$g" | tr ',' '\n' | grep -qx "$SERVICE_USER"; then
      usermod "${SHADOW_ARGS[@]}" -aG "$g" "$SERVICE_USER"
      CHANGES=$((CHANGES + 1))
    fi
  done
}

install_program() {
  if [ "$APP" = "$SOURCE" ]; then
    say "running from the checkout at $SOURCE (prefix is the source)"
  else
    if [ ! -f "$SOURCE/dist/src/cli/main.js" ]; then
      say "building $SOURCE (npm ci && npm run build)"
      (cd "$SOURCE" && npm ci && npm run build)
    fi
    local before=$CHANGES
    if [ -n "$BUNDLE" ]; then install_bundle_modules; fi
    for f in package.json package-lock.json bundle.json; do
      if [ -f "$SOURCE/$f" ]; then put_file "$SOURCE/$f" "$APP/$f" 0644; fi
    done
    for d in bin dist config rules systemd docs; do put_tree "$d"; done
    if [ -n "$BUNDLE" ]; then
      : # node_modules came with the bundle
    elif [ "$NPM" = 1 ] && { [ "$CHANGES" != "$before" ] || [ ! -d "$APP/node_modules" ]; }; then
      say "installing runtime dependencies in $APP (npm ci --omit=dev)"
      (cd "$APP" && npm ci --omit=dev --no-audit --no-fund)
    fi
  fi
  mkdir -p "$(dirname "$BIN_LINK")"
  if [ "$(readlink "$BIN_LINK" 2>/dev/null || true)" != "$PREFIX/bin/fieldgate.js" ]; then
    ln -sfn "$PREFIX/bin/fieldgate.js" "$BIN_LINK"
    CHANGES=$((CHANGES + 1))
  fi
}

# A bundle's node_modules replace the installed ones as a whole, when the bundle differs
# from the one installed (bundle.json: version, lock file hash, platform, ABI).
install_bundle_modules() {
  if [ -d "$APP/node_modules" ] && cmp -s "$SOURCE/bundle.json" "$APP/bundle.json"; then return 0; fi
  say "installing the bundle's node_modules in $APP"
  mkdir -p "$APP"
  rm -rf "$APP/node_modules.new"
  cp -a "$SOURCE/node_modules" "$APP/node_modules.new"
  rm -rf "$APP/node_modules"
  mv "$APP/node_modules.new" "$APP/node_modules"
  CHANGES=$((CHANGES + 1))
}

install_config() {
  make_dir "$ETC" 0755
  make_dir "$ETC/rules.d" 0755
  make_dir "$STATE" 0750
  if user_exists; then
    chown "$(uid_of "$SERVICE_USER"):$(gid_of "$SERVICE_USER")" "$STATE"
    chgrp "$(gid_of "$SERVICE_USER")" "$ETC/rules.d"
  fi
  if [ -f "$SOURCE/config/gateway.example.yaml" ]; then
    if put_example "$SOURCE/config/gateway.example.yaml" "$ETC/gateway.yaml"; then FRESH_CONFIG=1; fi
  else
    say "warning: $SOURCE/config/gateway.example.yaml missing; write $ETC/gateway.yaml yourself"
  fi
  local r
  for r in "$SOURCE"/rules/*.yaml; do
    if [ -f "$r" ]; then put_example "$r" "$ETC/rules.d/$(basename "$r")" || true; fi
  done
}

# The installed program, run as the service user where there is one (so a file the
# daemon could not read fails the check too).
# From / as under systemd, so relative paths in the config resolve as the daemon's will.
fieldgate_cli() {
  if [ "$ROOT" = "" ] && user_exists && command -v runuser >/dev/null; then
    (cd / && runuser -u "$SERVICE_USER" -- node "$APP/bin/fieldgate.js" "$@")
  else
    (cd / && node "$APP/bin/fieldgate.js" "$@")
  fi
}

check_config() {
  [ "$FRESH_CONFIG" = 0 ] || return 0
  say "checking $ETC/gateway.yaml (fieldgate config check)"
  if fieldgate_cli config check "$ETC/gateway.yaml"; then CONFIG_OK=1; fi
}

# The drop-in with what the configured drivers need (BLE capabilities, GPIO sysfs paths).
install_dropin() {
  [ "$CONFIG_OK" = 1 ] || return 0
  local tmp
  tmp="$(mktemp)"
  fieldgate_cli config unit "$ETC/gateway.yaml" >"$tmp"
  if [ -s "$tmp" ]; then
    local g
    # Groups the drop-in adds (bluetooth for BLE) must exist too, or the unit cannot start.
    for g in $(sed -n 's/^SupplementaryGroups=//p' "$tmp"); do
      if [ "$USERS" = 1 ] && ! group_exists "$g"; then
        groupadd "${SHADOW_ARGS[@]}" --system "$g"
        record "group $g"
        say "created system group $g (for the drivers drop-in)"
        CHANGES=$((CHANGES + 1))
      fi
    done
    put_file "$tmp" "$DROPIN_DIR/$DROPIN_NAME" 0644
  elif [ -e "$DROPIN_DIR/$DROPIN_NAME" ]; then
    rm -f "$DROPIN_DIR/$DROPIN_NAME"
    CHANGES=$((CHANGES + 1))
  fi
  rm -f "$tmp"
}

next_steps() {
  cat <<EOF
install.sh: fieldgate is installed but NOT started: $ETC/gateway.yaml is the example just copied.
Next steps:
  1. Edit $ETC/gateway.yaml: gateway.id, the uplink brokers, and only the drivers this site has.
  2. Put the broker password in the file uplink.passwordFile names and the CA in uplink.tls.ca
     (chgrp fieldgate FILE; chmod 0640 FILE), or remove those keys.
  3. Check it:  fieldgate config check $ETC/gateway.yaml
  4. Run this script again: it checks the config, writes the unit's drop-in for your drivers,
     then enables and starts fieldgate (journalctl -u fieldgate; fieldgate status).
EOF
}

install_units() {
  local u
  for u in "${UNITS[@]}"; do put_file "$SOURCE/systemd/$u" "$UNIT_DIR/$u" 0644; done
  install_dropin
  if [ "$FRESH_CONFIG" = 1 ]; then
    if [ "$SYSTEMCTL" = 1 ]; then systemctl daemon-reload; fi
    next_steps
    return 0
  fi
  if [ "$CONFIG_OK" = 0 ]; then
    if [ "$SYSTEMCTL" = 1 ]; then systemctl daemon-reload; fi
    say "fieldgate NOT (re)started: $ETC/gateway.yaml fails the check above; fix it, then run this script again"
    NOT_STARTED=1
    return 0
  fi
  [ "$SYSTEMCTL" = 1 ] || { say "not calling systemctl (--no-systemctl); start with: systemctl enable --now fieldgate"; return 0; }
  systemctl daemon-reload
  systemctl enable fieldgate.service
  # Restart only when something changed (an upgrade) or the service is not running.
  if [ "$CHANGES" != 0 ] || ! systemctl is-active --quiet fieldgate.service; then
    systemctl restart fieldgate.service
    say "fieldgate (re)started; check it with: fieldgate status, journalctl -u fieldgate"
  fi
}

purge_users() {
  [ -f "$RECORD" ] || { say "no install record ($RECORD): leaving users and groups alone"; return 0; }
  [ "$USERS" = 1 ] || { say "not removing users and groups (--no-users)"; return 0; }
  local kind name
  # The user first: a user's own group cannot be deleted while it is its primary group.
  while read -r kind name; do
    if [ "$kind" = user ] && grep -q "^$name:" "$ROOT/etc/passwd"; then
      userdel "${SHADOW_ARGS[@]}" "$name"
      say "removed system user $name"
    fi
  done <"$RECORD"
  while read -r kind name; do
    [ "$kind" = group ] && group_exists "$name" || continue
    if [ -n "$(group_members "$name" | tr ',' '\n' | grep -vx "$SERVICE_USER" || true)" ]; then
      say "kept group $name (created by install.sh, but it has other members now: $(group_members "$name"))"
    else
      groupdel "${SHADOW_ARGS[@]}" "$name"
      say "removed system group $name"
    fi
  done <"$RECORD"
}

uninstall() {
  if [ "$SYSTEMCTL" = 1 ] && [ -f "$UNIT" ]; then
    systemctl disable --now fieldgate.service fieldgate-recover.timer || true
  fi
  local u
  for u in "${UNITS[@]}"; do rm -f "$UNIT_DIR/$u"; done
  if [ "$PURGE" = 1 ]; then
    rm -rf "$DROPIN_DIR" # ours and the engineer's `systemctl edit` overrides: config too
  else
    rm -f "$DROPIN_DIR/$DROPIN_NAME"
    rmdir "$DROPIN_DIR" 2>/dev/null || true
  fi
  if [ "$SYSTEMCTL" = 1 ]; then systemctl daemon-reload; fi
  rm -f "$BIN_LINK"
  if [ "$APP" != "$SOURCE" ]; then rm -rf "$APP"; fi
  if [ "$PURGE" = 1 ]; then
    purge_users
    rm -rf "$ETC" "$STATE"
    say "removed fieldgate, its config ($ETC), data ($STATE) and unit drop-ins"
  else
    say "removed fieldgate; kept config in $ETC and data in $STATE (--purge removes them)"
  fi
}

if [ "$ACTION" = uninstall ]; then
  uninstall
  exit 0
fi
[ -f /etc/debian_version ] || say "warning: not a Debian-family system; continuing"
preflight
ensure_users
install_program
install_config
check_config
install_units
say "done: $CHANGES change(s)"
exit "$NOT_STARTED"
