#!/usr/bin/env bash
# Install (or upgrade, or remove) fieldgate as a systemd service on Raspberry Pi OS / Debian.
#
#   sudo scripts/install.sh                  install or upgrade from this checkout, enable and start
#   sudo scripts/install.sh --uninstall      remove program and unit; keep /etc/fieldgate and /var/lib/fieldgate
#   sudo scripts/install.sh --uninstall --purge   also remove config, data and the fieldgate user
#
# Idempotent: a second run changes nothing. The engineer's config and rules are
# never overwritten: examples are copied only where no file exists yet.
#
# Options:
#   --prefix DIR     where the program goes (default /opt/fieldgate)
#   --root DIR       install under DIR instead of / (tests, image builds); implies --no-users
#   --source DIR     the built checkout to install from (default: this script's checkout)
#   --no-systemctl   do not call systemctl (no daemon-reload/enable/start)
#   --no-npm         do not run npm (no build, no npm ci --omit=dev in the prefix)
#   --no-users       do not create groups or the fieldgate user
set -euo pipefail

PREFIX=/opt/fieldgate
ROOT=/
SOURCE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SYSTEMCTL=1
NPM=1
USERS=1
ACTION=install
PURGE=0
SERVICE_USER=fieldgate
CHANGES=0

die() { echo "install.sh: $*" >&2; exit 1; }
say() { echo "install.sh: $*"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) PREFIX="${2:?--prefix needs a directory}"; shift 2 ;;
    --root) ROOT="${2:?--root needs a directory}"; shift 2 ;;
    --source) SOURCE="$(cd "${2:?--source needs a directory}" && pwd)"; shift 2 ;;
    --no-systemctl) SYSTEMCTL=0; shift ;;
    --no-npm) NPM=0; shift ;;
    --no-users) USERS=0; shift ;;
    --uninstall) ACTION=uninstall; shift ;;
    --purge) PURGE=1; shift ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done

ROOT="${ROOT%/}"
if [ "$ROOT" != "" ]; then USERS=0; fi # users and groups live in the real /etc, not under --root
if [ "$PURGE" = 1 ] && [ "$ACTION" != uninstall ]; then die "--purge only goes with --uninstall"; fi
[ "$(id -u)" = 0 ] || [ "$ROOT" != "" ] || die "run as root (sudo $0 $*)"

ETC="$ROOT/etc/fieldgate"
STATE="$ROOT/var/lib/fieldgate"
UNIT="$ROOT/etc/systemd/system/fieldgate.service"
BIN_LINK="$ROOT/usr/local/bin/fieldgate"
APP="$ROOT$PREFIX"

user_exists() { [ "$USERS" = 1 ] && getent passwd "$SERVICE_USER" >/dev/null; }

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
  [ -e "$dst" ] && return 0
  install -D -m 0640 "$src" "$dst"
  if user_exists; then chgrp "$SERVICE_USER" "$dst"; fi
  say "created $dst from $(basename "$src")"
  CHANGES=$((CHANGES + 1))
}

# Mirror a directory tree of the checkout into the prefix (files only, changed ones).
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

ensure_users() {
  [ "$USERS" = 1 ] || { say "skipping users and groups (--no-users or --root)"; return 0; }
  local g groups=()
  # The unit's SupplementaryGroups= must all exist or the service cannot start.
  for g in dialout gpio bluetooth; do
    if ! getent group "$g" >/dev/null; then
      groupadd --system "$g"
      say "created system group $g"
      CHANGES=$((CHANGES + 1))
    fi
    groups+=("$g")
  done
  if ! getent passwd "$SERVICE_USER" >/dev/null; then
    useradd --system --user-group --home-dir /var/lib/fieldgate --no-create-home \
      --shell /usr/sbin/nologin --comment "fieldgate gateway daemon" "$SERVICE_USER"
    say "created system user $SERVICE_USER"
    CHANGES=$((CHANGES + 1))
  fi
  for g in "${groups[@]}"; do
    if ! id -nG "$SERVICE_USER" | tr ' ' '\n' | grep -qx "$g"; then
      usermod -aG "$g" "$SERVICE_USER"
      CHANGES=$((CHANGES + 1))
    fi
  done
}

install_program() {
  if [ "$APP" = "$SOURCE" ]; then
    say "running from the checkout at $SOURCE (prefix is the source)"
  else
    if [ ! -f "$SOURCE/dist/src/cli/main.js" ]; then
      [ "$NPM" = 1 ] || die "$SOURCE has no build (dist/); run npm ci && npm run build there first"
      say "building $SOURCE (npm ci && npm run build)"
      (cd "$SOURCE" && npm ci && npm run build)
    fi
    local before=$CHANGES
    for f in package.json package-lock.json; do
      if [ -f "$SOURCE/$f" ]; then put_file "$SOURCE/$f" "$APP/$f" 0644; fi
    done
    for d in bin dist config rules systemd docs; do put_tree "$d"; done
    if [ "$NPM" = 1 ] && { [ "$CHANGES" != "$before" ] || [ ! -d "$APP/node_modules" ]; }; then
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

install_config() {
  make_dir "$ETC" 0755
  make_dir "$ETC/rules.d" 0755
  make_dir "$STATE" 0750
  if user_exists; then
    chown "$SERVICE_USER:$SERVICE_USER" "$STATE"
    chgrp "$SERVICE_USER" "$ETC/rules.d"
  fi
  if [ -f "$SOURCE/config/gateway.example.yaml" ]; then
    put_example "$SOURCE/config/gateway.example.yaml" "$ETC/gateway.yaml"
  else
    say "warning: $SOURCE/config/gateway.example.yaml missing; write $ETC/gateway.yaml yourself"
  fi
  local r
  for r in "$SOURCE"/rules/*.yaml; do
    if [ -f "$r" ]; then put_example "$r" "$ETC/rules.d/$(basename "$r")"; fi
  done
}

install_unit() {
  put_file "$SOURCE/systemd/fieldgate.service" "$UNIT" 0644
  [ "$SYSTEMCTL" = 1 ] || { say "not calling systemctl (--no-systemctl)"; return 0; }
  systemctl daemon-reload
  systemctl enable fieldgate.service
  # Restart only when something changed (an upgrade) or the service is not running.
  if [ "$CHANGES" != 0 ] || ! systemctl is-active --quiet fieldgate.service; then
    systemctl restart fieldgate.service
    say "fieldgate (re)started; check it with: fieldgate status, journalctl -u fieldgate"
  fi
}

uninstall() {
  if [ "$SYSTEMCTL" = 1 ] && [ -f "$UNIT" ]; then
    systemctl disable --now fieldgate.service || true
  fi
  rm -f "$UNIT"
  if [ "$SYSTEMCTL" = 1 ]; then systemctl daemon-reload; fi
  rm -f "$BIN_LINK"
  if [ "$APP" != "$SOURCE" ]; then rm -rf "$APP"; fi
  if [ "$PURGE" = 1 ]; then
    rm -rf "$ETC" "$STATE"
    if user_exists; then userdel "$SERVICE_USER" || true; fi
    say "removed fieldgate, its config ($ETC) and data ($STATE)"
  else
    say "removed fieldgate; kept config in $ETC and data in $STATE (--purge removes them)"
  fi
}

if [ "$ACTION" = uninstall ]; then
  uninstall
  exit 0
fi
[ -f /etc/debian_version ] || say "warning: not a Debian-family system; continuing"
ensure_users
install_program
install_config
install_unit
say "done: $CHANGES change(s)"
