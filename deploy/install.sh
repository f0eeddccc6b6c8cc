#!/usr/bin/env bash
# Install (or update) the gallery kiosk on this machine, idempotently.
#
#   sudo deploy/install.sh                   # online: apt mirrors and PyPI
#   sudo deploy/install.sh --offline DIR     # air-gapped: a wheelhouse from deploy/wheelhouse.sh
#   sudo deploy/install.sh --uninstall       # units, /opt/kiosk and the `kiosk` command go;
#                                            #   /var/lib/kiosk and /etc/kiosk stay
#   sudo deploy/install.sh --uninstall --purge   # …and the data, the settings and the user too
#   sudo deploy/install.sh --unit kiosk-headless.service   # enable another app unit (or
#                                            #   kiosk-cage.service); default kiosk.service
#
# Supported: Raspberry Pi OS Bookworm arm64 and Debian 12 amd64/arm64. What it sets up:
#   apt packages      the runtime ones only (RUNTIME_APT below), --no-install-recommends
#   user `kiosk`      system user, home /var/lib/kiosk, groups audio video render input
#   /opt/kiosk        a copy of this checkout's runtime files (kiosk/ models/ deploy/ content/ …)
#   /opt/kiosk/.venv  the runtime pins of requirements.lock (tests/lint pins left out) + the
#                     kiosk package (editable, so models/catalog.toml is found beside it)
#   /usr/local/bin/kiosk   runs /opt/kiosk/.venv/bin/kiosk with KIOSK_SYSTEM=1 (/var/lib/kiosk)
#   /etc/kiosk/settings.toml   written once from `kiosk settings`, never overwritten
#   /var/lib/kiosk    data: models (MODELS below), content versions, insights, incoming/
#   systemd units     deploy/systemd/*.service → /etc/systemd/system; kiosk.service (or --unit)
#                     enabled when systemd runs; kiosk-content-sync.service once Syncthing is set up
#   demo content      built and synced as the first version when no content is installed
# A second run checks each step, changes nothing and says so in a few seconds.
set -euo pipefail
umask 022

PREFIX=/opt/kiosk
DATA=/var/lib/kiosk
ETC=/etc/kiosk
USER_NAME=kiosk
GROUPS_WANTED=(audio video render input)
UNIT_DIR=/etc/systemd/system
WRAPPER=/usr/local/bin/kiosk
# Runtime apt packages (DESIGN.md): Python, speech out (espeak-ng), sound (PortAudio, ALSA),
# Kivy's SDL2 on KMS/DRM (Mesa EGL/GLES, mtdev for touch), Vosk on arm64 (libatomic1),
# content over the LAN (syncthing), HTTPS for pip (ca-certificates).
RUNTIME_APT=(python3 python3-venv espeak-ng libportaudio2 alsa-utils
             libegl1 libgles2 libgl1-mesa-dri libmtdev1 libatomic1
             syncthing ca-certificates)
# The models a kiosk needs: the question encoder and Whisper base (fr/en/es speech).
# Override with KIOSK_MODELS="…" (e.g. add vosk-ko to test the Vosk adapter).
read -r -a MODELS <<< "${KIOSK_MODELS:-use-multilingual-v3-int8 whisper-base}"
# requirements.lock pins the tools of developers too; a kiosk needs none of these at run time
# (checked: the closure of pyproject's dependencies, plus vosk, leaves exactly these out).
DEV_ONLY="pytest iniconfig pluggy ruff mypy mypy-extensions pathspec librt ast-serialize
          rank-bm25 jiwer hypothesis sortedcontainers pytest-timeout babel
          pytest-xdist execnet"

SRC=$(cd "$(dirname "$0")/.." && pwd)
OFFLINE="" UNINSTALL=0 PURGE=0 APP_UNIT=kiosk.service
START=$(date +%s%N)
CHANGED=()

say() { echo "install: $*"; }
die() { echo "install: error: $*" >&2; exit 1; }
changed() { CHANGED+=("$1"); say "$1: $2"; }
unchanged() { say "$1: $2 (unchanged)"; }

usage() {
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
  exit "${1:-0}"
}

while [ $# -gt 0 ]; do
  case "$1" in
    --offline) [ $# -ge 2 ] || die "--offline needs a folder or .tar made by deploy/wheelhouse.sh"
               OFFLINE=$2; shift 2 ;;
    --offline=*) OFFLINE=${1#--offline=}; shift ;;
    --uninstall) UNINSTALL=1; shift ;;
    --purge) PURGE=1; shift ;;
    --unit) [ $# -ge 2 ] || die "--unit needs a unit name, e.g. kiosk-headless.service"
            APP_UNIT=$2; shift 2 ;;
    -h|--help) usage 0 ;;
    *) die "unknown option '$1' — see $0 --help" ;;
  esac
done
[ "$PURGE" = 1 ] && [ "$UNINSTALL" = 0 ] && die "--purge goes with --uninstall"

# -- checks: root, OS, architecture --------------------------------------------------------------
[ "$(id -u)" -eq 0 ] || die "run me as root: sudo $0 $*"
[ -r /etc/os-release ] || die "no /etc/os-release: only Debian 12 / Raspberry Pi OS Bookworm are supported"
# shellcheck disable=SC1091
read -r OS_CODENAME OS_ID < <(. /etc/os-release; echo "${VERSION_CODENAME:-none} ${ID:-} ${ID_LIKE:-}")
case " $OS_ID " in *" debian "*|*" raspbian "*) ;; *)
  die "unsupported OS '$OS_ID': only Debian 12 / Raspberry Pi OS Bookworm are supported" ;; esac
[ "$OS_CODENAME" = bookworm ] || die "unsupported release '$OS_CODENAME': only Bookworm (Debian 12) is supported"
ARCH=$(dpkg --print-architecture)
case "$ARCH" in amd64|arm64) ;; *)
  die "unsupported architecture '$ARCH': arm64 (Raspberry Pi OS 64-bit) or amd64 only — a 32-bit Pi OS needs the 64-bit image" ;; esac

systemd_running() { [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; }

# -- uninstall --------------------------------------------------------------------------------------
if [ "$UNINSTALL" = 1 ]; then
  units=()
  for f in "$UNIT_DIR"/kiosk.service "$UNIT_DIR"/kiosk-*.service; do [ -e "$f" ] && units+=("$(basename "$f")"); done
  if [ ${#units[@]} -gt 0 ]; then
    if systemd_running; then
      systemctl disable --now "${units[@]}" >/dev/null 2>&1 || true
    fi
    for u in "${units[@]}"; do rm -f "$UNIT_DIR/$u"; done
    systemd_running && systemctl daemon-reload
    say "removed units: ${units[*]}"
  fi
  rm -f "$WRAPPER"
  if [ -d "$PREFIX" ]; then rm -rf "$PREFIX"; say "removed $PREFIX"; fi
  if [ "$PURGE" = 1 ]; then
    rm -rf "$DATA" "$ETC"
    if id "$USER_NAME" >/dev/null 2>&1; then userdel "$USER_NAME" 2>/dev/null || true; fi
    if getent group "$USER_NAME" >/dev/null; then groupdel "$USER_NAME" 2>/dev/null || true; fi
    say "purged $DATA, $ETC and the user $USER_NAME"
  else
    say "kept $DATA (models, content, insights), $ETC and the user $USER_NAME — --purge removes them"
  fi
  say "apt packages are left installed (shared libraries); remove them with apt if you wish"
  exit 0
fi

# -- offline: a wheelhouse folder (or .tar), verified before anything is used ------------------
WH=""
if [ -n "$OFFLINE" ]; then
  if [ -f "$OFFLINE" ]; then
    WH=$(mktemp -d /var/tmp/kiosk-wheelhouse.XXXXXX)
    trap 'rm -rf "$WH"' EXIT
    tar -C "$WH" -xf "$OFFLINE" || die "$OFFLINE: not a readable .tar from deploy/wheelhouse.sh"
    [ -f "$WH/MANIFEST" ] || { sub=$(find "$WH" -mindepth 2 -maxdepth 2 -name MANIFEST | head -1)
                               [ -n "$sub" ] && WH=$(dirname "$sub"); }
  elif [ -d "$OFFLINE" ]; then
    WH=$(cd "$OFFLINE" && pwd)
  else
    die "--offline $OFFLINE: no such folder or file"
  fi
  [ -f "$WH/MANIFEST" ] || die "$OFFLINE has no MANIFEST — make it with deploy/wheelhouse.sh"
  wh_arch=$(cat "$WH/ARCH" 2>/dev/null || echo "?")
  [ "$wh_arch" = "$ARCH" ] || die "$OFFLINE is for '$wh_arch', this machine is $ARCH — run deploy/wheelhouse.sh --arch $ARCH"
  if ! bad=$(cd "$WH" && sha256sum --quiet -c MANIFEST 2>&1); then
    die "$OFFLINE is damaged: $(echo "$bad" | head -1) — copy it again (sha256 in MANIFEST)"
  fi
  # every file present must be listed: nothing slipped in beside the verified ones
  extra=$(cd "$WH" && comm -13 <(awk '{print $2}' MANIFEST | sed 's|^\*||' | sort) \
                             <(find . -type f ! -name MANIFEST | sed 's|^\./||' | sort) | head -1)
  [ -z "$extra" ] || die "$OFFLINE holds $extra, which MANIFEST does not list — rebuild the wheelhouse"
  say "wheelhouse $OFFLINE: verified ($(wc -l < "$WH/MANIFEST") files, $ARCH)"
fi

NET_OK=0
need_network() {  # $1: what for
  [ "$NET_OK" = 1 ] && return 0
  [ -n "$WH" ] && die "$1 is not in the wheelhouse $OFFLINE — rebuild it with deploy/wheelhouse.sh"
  if command -v python3 >/dev/null 2>&1; then
    local why
    why=$(python3 - 2>&1 <<'EOF'
import ssl, sys, urllib.error, urllib.request
try:
    urllib.request.urlopen("https://pypi.org/simple/pip/", timeout=15).read(1)
except urllib.error.URLError as exc:
    if isinstance(exc.reason, ssl.SSLCertVerificationError):
        sys.exit("pypi.org's certificate is not trusted here (an HTTPS-inspecting proxy? put "
                 "its CA in /usr/local/share/ca-certificates/ and run update-ca-certificates)")
    sys.exit("no network: pypi.org is unreachable — connect this machine, or install with "
             "--offline DIR (see deploy/wheelhouse.sh)")
EOF
    ) || die "$why"
  fi
  NET_OK=1
}

# -- 1. apt packages ------------------------------------------------------------------------------
installed_version() { dpkg-query -W -f='${Status} ${Version}' "$1" 2>/dev/null | awk '/install ok installed/ {print $4}' || true; }
missing=()
for pkg in "${RUNTIME_APT[@]}"; do [ -n "$(installed_version "$pkg")" ] || missing+=("$pkg"); done
if [ ${#missing[@]} -eq 0 ]; then
  unchanged "apt" "${#RUNTIME_APT[@]} packages installed"
elif [ -n "$WH" ]; then
  # The wheelhouse's .debs as a local flat repository, the only source apt sees (private lists):
  # apt resolves as usual, keeps what is installed when it is as new, and never tries a mirror.
  repo=$(mktemp -d /var/tmp/kiosk-debs.XXXXXX)
  mkdir -p "$repo/lists/partial" "$repo/parts" "$repo/debs"; chmod 755 "$repo"  # apt reads as _apt
  for deb in "$WH"/debs/*.deb; do
    [ -e "$deb" ] || continue
    ln -s "$deb" "$repo/debs/"
    { dpkg-deb -f "$deb"
      echo "Filename: ./$(basename "$deb")"
      echo "Size: $(stat -c %s "$deb")"
      echo "SHA256: $(sha256sum "$deb" | cut -d' ' -f1)"
      echo; } >> "$repo/debs/Packages"
  done
  [ -s "$repo/debs/Packages" ] || { rm -rf "$repo"; die "the wheelhouse has no .debs — rebuild it with deploy/wheelhouse.sh"; }
  echo "deb [trusted=yes] file:$repo/debs ./" > "$repo/sources.list"
  APT_LOCAL=(-o Dir::Etc::SourceList="$repo/sources.list" -o Dir::Etc::SourceParts="$repo/parts"
             -o Dir::State::Lists="$repo/lists")
  say "apt: installing ${missing[*]} from the wheelhouse"
  if ! { apt-get "${APT_LOCAL[@]}" update -qq >/dev/null &&
         DEBIAN_FRONTEND=noninteractive apt-get "${APT_LOCAL[@]}" install -y -qq --no-install-recommends \
           "${missing[@]}" >/dev/null; }; then
    rm -rf "$repo"; die "apt could not install from $OFFLINE/debs (see above) — was it built for Bookworm $ARCH?"
  fi
  rm -rf "$repo"
  changed "apt" "installed ${missing[*]}"
else
  say "apt: installing ${missing[*]}"
  apt-get update -qq --error-on=any >/dev/null 2>&1 \
    || die "no network: apt-get update failed — connect this machine, or install with --offline DIR (see deploy/wheelhouse.sh)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  changed "apt" "installed ${missing[*]}"
fi

# -- 2. the kiosk user ------------------------------------------------------------------------------
user_changes=()
if ! id "$USER_NAME" >/dev/null 2>&1; then
  useradd --system --user-group --home-dir "$DATA" --no-create-home --shell /usr/sbin/nologin \
          --comment "Gallery kiosk" "$USER_NAME"
  user_changes+=("created")
fi
for g in "${GROUPS_WANTED[@]}"; do
  getent group "$g" >/dev/null || { groupadd --system "$g"; user_changes+=("group $g created"); }
  id -nG "$USER_NAME" | tr ' ' '\n' | grep -qx "$g" || { usermod -aG "$g" "$USER_NAME"; user_changes+=("+$g"); }
done
if [ ${#user_changes[@]} -gt 0 ]; then changed "user" "$USER_NAME ${user_changes[*]}"
else unchanged "user" "$USER_NAME in ${GROUPS_WANTED[*]}"; fi
for d in "$DATA" "$DATA/incoming"; do
  if [ ! -d "$d" ]; then install -d -o "$USER_NAME" -g "$USER_NAME" -m 0750 "$d"; changed "data" "created $d"; fi
done

# -- 3. the code in /opt/kiosk ------------------------------------------------------------------------
CODE_ITEMS=(kiosk models deploy content pyproject.toml requirements.lock README.md)
tree_hash() {  # sha256 of the names and contents of the runtime files under $1
  local items=() i
  for i in "${CODE_ITEMS[@]}"; do [ -e "$1/$i" ] && items+=("$i"); done
  (cd "$1" && find "${items[@]}" -type f ! -path '*/__pycache__/*' ! -name '*.pyc' -print0 2>/dev/null \
     | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-64)
}
for item in kiosk models pyproject.toml requirements.lock; do
  [ -e "$SRC/$item" ] || die "$SRC is not a kiosk checkout (no $item) — run the install.sh of a checkout"
done
code_changed=0
want=$(tree_hash "$SRC")
if [ "$SRC" -ef "$PREFIX" ]; then
  unchanged "code" "running from $PREFIX"
elif [ "$(cat "$PREFIX/.source-sha256" 2>/dev/null)" = "$want" ]; then
  unchanged "code" "$PREFIX up to date"
else
  mkdir -p "$PREFIX"
  for item in "${CODE_ITEMS[@]}"; do
    [ -e "$SRC/$item" ] || continue
    rm -rf "$PREFIX/$item.new"
    cp -a "$SRC/$item" "$PREFIX/$item.new"
    find "$PREFIX/$item.new" -name __pycache__ -prune -exec rm -rf {} + 2>/dev/null || true
    rm -rf "${PREFIX:?}/$item"
    mv "$PREFIX/$item.new" "$PREFIX/$item"
  done
  chown -R root:root "$PREFIX"
  chmod -R u+rwX,go+rX,go-w "$PREFIX"
  echo "$want" > "$PREFIX/.source-sha256"
  code_changed=1
  changed "code" "copied to $PREFIX"
fi

# -- 4. the virtual environment ------------------------------------------------------------------------
VENV=$PREFIX/.venv
REQ=$PREFIX/requirements-runtime.txt
runtime_pins() {  # requirements.lock without the developers' tools, one pin each
  awk -v dev="$DEV_ONLY" 'BEGIN { n = split(dev, d, /[ \n]+/); for (i = 1; i <= n; i++) skip[d[i]] = 1 }
       /^[A-Za-z0-9]/ { name = tolower($0); sub(/[=<>! ].*/, "", name); gsub(/[_.]/, "-", name)
                        if (!(name in skip) && !(name in seen)) { seen[name] = 1; print } }' "$1"
}
runtime_pins "$PREFIX/requirements.lock" > "$REQ.tmp"
venv_want=$( { cat "$REQ.tmp"; sha256sum "$PREFIX/pyproject.toml"; /usr/bin/python3 -V; } | sha256sum | cut -c1-64)
if [ -x "$VENV/bin/kiosk" ] && [ "$(cat "$VENV/.kiosk-installed" 2>/dev/null)" = "$venv_want" ]; then
  rm -f "$REQ.tmp"
  unchanged "venv" "$VENV ($(grep -c . "$REQ") runtime pins)"
else
  mv "$REQ.tmp" "$REQ"
  [ -x "$VENV/bin/python" ] || /usr/bin/python3 -m venv "$VENV"
  pip=("$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-input)
  if [ -n "$WH" ]; then
    pip+=(--no-index --find-links "$WH/wheels")
  else
    need_network "the Python packages"
  fi
  say "venv: installing $(grep -c . "$REQ") pinned packages into $VENV (a few minutes the first time)"
  "${pip[@]}" -r "$REQ" || die "pip could not install $REQ (see above)"
  "${pip[@]}" --no-deps --no-build-isolation -e "$PREFIX" >/dev/null || die "pip could not install the kiosk package from $PREFIX"
  "$VENV/bin/python" -m pip check -q >/dev/null || die "pip check fails in $VENV: $("$VENV/bin/python" -m pip check | head -1)"
  echo "$venv_want" > "$VENV/.kiosk-installed"
  changed "venv" "$VENV ready"
fi
if [ ! -x "$WRAPPER" ] || ! grep -q "$VENV/bin/kiosk" "$WRAPPER"; then
  cat > "$WRAPPER" <<EOF
#!/bin/sh
# The kiosk command for technicians (deploy/install.sh): the system data directory
# (/var/lib/kiosk) unless KIOSK_DATA_DIR or --data-dir says otherwise.
export KIOSK_SYSTEM="\${KIOSK_SYSTEM:-1}"
exec $VENV/bin/kiosk "\$@"
EOF
  chmod 0755 "$WRAPPER"
  changed "command" "$WRAPPER"
fi
KIOSK=("$VENV/bin/kiosk")
export KIOSK_DATA_DIR=$DATA

# -- 5. settings -------------------------------------------------------------------------------------
if [ -e "$ETC/settings.toml" ]; then
  unchanged "settings" "$ETC/settings.toml kept as it is"
else
  install -d -m 0755 "$ETC"
  env -u KIOSK_SETTINGS "${KIOSK[@]}" settings > "$ETC/settings.toml.new"
  chown root:"$USER_NAME" "$ETC/settings.toml.new"
  chmod 0640 "$ETC/settings.toml.new"   # it holds the admin PIN
  mv "$ETC/settings.toml.new" "$ETC/settings.toml"
  changed "settings" "wrote $ETC/settings.toml (the defaults; edit it, it is never overwritten)"
fi

# -- 6. models ----------------------------------------------------------------------------------------
models_changed=0
for model in "${MODELS[@]}"; do
  from=()
  if [ -n "$WH" ]; then
    for w in "$WH"/models/*.whl; do [ -e "$w" ] && from+=(--from "$w"); done
    [ ${#from[@]} -gt 0 ] || die "the wheelhouse has no model wheels — rebuild it with deploy/wheelhouse.sh"
  fi
  out=$("${KIOSK[@]}" models install "$model" "${from[@]}" 2>&1) || {
    case "$out" in *"could not fetch"*) [ -z "$WH" ] && die "no network: $(echo "$out" | tail -1)";; esac
    die "model $model: $(echo "$out" | tail -1)"; }
  case "$out" in
    *"already installed"*) unchanged "model" "$model verified" ;;
    *) models_changed=1; changed "model" "$model installed and verified" ;;
  esac
done
[ "$models_changed" = 1 ] && chown -R "$USER_NAME:$USER_NAME" "$DATA/models"

# -- 7. content: the demo as the first version when none is installed ------------------------------
status=$("${KIOSK[@]}" content status --json 2>&1) || die "kiosk content status failed: $(tail -1 <<< "$status")"
if grep -q '"current": null' <<< "$status"; then
  tmp=$(mktemp -d "$DATA/.demo-build.XXXXXX")
  "${KIOSK[@]}" content build "$PREFIX/content/demo" -o "$tmp/demo" >/dev/null \
    || { rm -rf "$tmp"; die "could not build the demo content (see above)"; }
  "${KIOSK[@]}" content sync "$tmp/demo" >/dev/null || { rm -rf "$tmp"; die "could not install the demo content"; }
  rm -rf "$tmp"
  chown -R "$USER_NAME:$USER_NAME" "$DATA"
  changed "content" "demo content installed as the first version"
else
  unchanged "content" "a version is installed ($(sed -n 's/.*"current": "\(.\{12\}\).*/\1/p' <<< "$status"))"
fi

# -- 8. systemd units ---------------------------------------------------------------------------------
units_changed=0
units=()
for unit in "$PREFIX"/deploy/systemd/*.service; do
  [ -e "$unit" ] || continue
  name=$(basename "$unit"); units+=("$name")
  if ! cmp -s "$unit" "$UNIT_DIR/$name"; then
    install -D -m 0644 "$unit" "$UNIT_DIR/$name"; units_changed=1
  fi
done
[ ${#units[@]} -gt 0 ] || say "units: none in $PREFIX/deploy/systemd"
printf '%s\n' "${units[@]}" | grep -qx "$APP_UNIT" \
  || die "deploy/systemd/$APP_UNIT does not exist — choose one of: ${units[*]}"
if [ "$units_changed" = 1 ]; then changed "units" "installed ${units[*]} in $UNIT_DIR"
elif [ ${#units[@]} -gt 0 ]; then unchanged "units" "${units[*]}"; fi
if systemd_running; then
  [ "$units_changed" = 1 ] && systemctl daemon-reload
  # kiosk-content-sync.service pulls in syncthing@kiosk: it is enabled once Syncthing is
  # configured (deploy/syncthing/README.md), never before (an unconfigured Syncthing would
  # use public discovery servers and relays).
  # One app unit only: the others conflict with it (they all take the screen or the microphone).
  for u in kiosk.service kiosk-cage.service kiosk-headless.service; do
    if [ "$u" != "$APP_UNIT" ] && systemctl is-enabled -q "$u" 2>/dev/null; then
      systemctl disable -q --now "$u"; changed "units" "$u disabled (--unit $APP_UNIT)"
    fi
  done
  if ! systemctl is-enabled -q "$APP_UNIT" 2>/dev/null; then
    systemctl enable -q "$APP_UNIT"; changed "units" "$APP_UNIT enabled (starts at boot)"
  fi
  if [ "$code_changed" = 1 ] || [ "$models_changed" = 1 ]; then
    for u in "${units[@]}"; do systemctl try-restart "$u" 2>/dev/null || true; done
  fi
else
  say "units: systemd is not running here (a chroot or an image build): not enabled — on the booted system run: systemctl enable $APP_UNIT"
fi

ms=$(( ($(date +%s%N) - START) / 1000000 ))
elapsed="$((ms / 1000)).$((ms % 1000 / 100))"
if [ ${#CHANGED[@]} -eq 0 ]; then
  say "nothing to change — the kiosk is installed ($elapsed s)"
else
  say "done in $elapsed s — changed: $(printf '%s\n' "${CHANGED[@]}" | awk '!seen[$0]++' | paste -sd' ')"
  say "next: reboot (or systemctl start $APP_UNIT); check with: sudo -u $USER_NAME kiosk doctor"
fi
