#!/usr/bin/env bash
# Installs, from Debian packages, the system tools the test suite talks to when
# they are missing: mosquitto (real MQTT broker), socat (virtual serial pairs),
# systemd (systemd-analyze verify), tmux (terminal UI tests), rabbitmq-server (its MQTT
# plugin, for the uplink's MQTT 5 fallback test; skipped when absent), pymodbus (an
# independent Modbus TCP slave, for Debian's /usr/bin/python3; skipped when absent).
# Needs root or sudo.
set -euo pipefail
need=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
command -v socat >/dev/null 2>&1 || need+=(socat)
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
command -v tmux >/dev/null 2>&1 || need+=(tmux)
command -v python3 >/dev/null 2>&1 || need+=(python3)
[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || need+=(rabbitmq-server)
/usr/bin/python3 -c 'import pymodbus.server' >/dev/null 2>&1 || need+=(python3-pymodbus python3-serial python3-serial-asyncio)
if [ ${#need[@]} -eq 0 ]; then
  echo "test-deps: mosquitto, socat, systemd-analyze, tmux, rabbitmq-server, pymodbus present"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "test-deps: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
# The Debian package starts a system-wide broker on 1883; tests start their own
# on free ports, so the system one is not needed (and the demo prefers 1883).
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  $SUDO systemctl disable --now mosquitto >/dev/null 2>&1 || true
  $SUDO systemctl disable --now rabbitmq-server >/dev/null 2>&1 || true
fi
