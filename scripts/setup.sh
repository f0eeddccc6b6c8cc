#!/usr/bin/env bash
# Set up everything the kiosk needs on Debian 12 / Raspberry Pi OS, idempotently:
# apt packages (through sudo when not root), a virtual environment with the pinned packages,
# and the models. The second run only checks, and takes a few seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
APT_PACKAGES=(python3 python3-venv python3-pip espeak-ng libportaudio2 libasound2-plugins
              libegl1 libgles2 libgl1-mesa-dri libmtdev1
              pulseaudio pulseaudio-utils syncthing)
if [ "${KIOSK_SETUP_TESTS:-}" = 1 ]; then
  APT_PACKAGES+=(chromium)  # the studio's tests drive it through Playwright (make test)
fi

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]} with apt"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi

PYTHON=${PYTHON:-}
if [ -z "$PYTHON" ]; then
  if [ -x /usr/bin/python3 ]; then PYTHON=/usr/bin/python3; else PYTHON=python3; fi
fi
if [ ! -x "$VENV/bin/python" ]; then
  echo "setup: creating the virtual environment $VENV"
  "$PYTHON" -m venv "$VENV"
fi

stamp="$VENV/.installed"
if [ ! -f "$stamp" ] || [ requirements.lock -nt "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "setup: installing the pinned Python packages"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r requirements.lock
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
  touch "$stamp"
fi

# Models: installed into the kiosk's data directory ($KIOSK_DATA_DIR or the user's data dir).
"$VENV/bin/kiosk" models install use-multilingual-v3-int8 | sed 's/^/setup: /'
"$VENV/bin/kiosk" models install e5-multilingual-small-q4 | sed 's/^/setup: /'
"$VENV/bin/kiosk" models install whisper-base | sed 's/^/setup: /'
"$VENV/bin/kiosk" models install vosk-ko | sed 's/^/setup: /'
