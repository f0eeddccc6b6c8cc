#!/usr/bin/env bash
# `make test-ansible`: run site.yml for real against a Debian 12 chroot, the way it runs on a
# kiosk (Ansible's community.general.chroot connection instead of SSH), and check it is
# idempotent:
#   1. first run (installs: the real deploy/install.sh from a release tarball built here)
#   2. second run: changed=0
#   3. --check --diff: changed=0
#   4. the kiosk's room changes in the inventory: --check says 1 change, then the real run
#      changes exactly the settings task and runs the restart handler
#   5. one more run: changed=0
# In the chroot systemd is not running: the playbook starts no units (that is guarded by a
# fact) and handlers are skipped. Prints the PLAY RECAP lines and the time of each run.
#
# Needs root (debootstrap, chroot, mounts), Debian's mirror and PyPI (the first time).
# Environment:
#   KIOSK_CI_CACHE     cache folder (default ~/.cache/kiosk-ci): the Debian base tarball
#                      (bookworm-minbase.tar.gz if present, else bookworm-minbase-ansible.tar.gz)
#   ANSIBLE_WORK       where the chroot is unpacked (default /var/tmp/kiosk-ansible); wiped
#   KEEP_ROOT=1        leave the chroot in place afterwards (to look around)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
CACHE=${KIOSK_CI_CACHE:-$HOME/.cache/kiosk-ci}
WORK=${ANSIBLE_WORK:-/var/tmp/kiosk-ansible}
ROOT=$WORK/root
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
T0=$(date +%s)
declare -a TIMES=()

say() { printf '\n== %s\n' "$*"; }
die() { echo "test-playbook: FAIL: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (debootstrap, chroot, mounts)"

# --- Tools --------------------------------------------------------------------------------
need=()
command -v ansible-playbook >/dev/null || need+=(ansible)
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v syncthing >/dev/null || need+=(syncthing)
if [ ${#need[@]} -gt 0 ]; then
  say "apt install ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
ansible-playbook --version | sed -n 1p
ansible-doc -t connection community.general.chroot >/dev/null 2>&1 \
  || die "the community.general collection (chroot connection) is missing: apt install ansible"

# --- A Debian 12 chroot with python3 ------------------------------------------------------
cleanup() {
  for m in "$ROOT/root/.cache/pip" "$ROOT/dev/pts" "$ROOT/dev" "$ROOT/sys" "$ROOT/proc"; do
    if mountpoint -q "$m" 2>/dev/null; then umount -l "$m" || true; fi
  done
  if [ -z "${KEEP_ROOT:-}" ]; then rm -rf "$ROOT"; fi
}
trap cleanup EXIT

mkdir -p "$CACHE"
BASE=$CACHE/bookworm-minbase.tar.gz
[ -f "$BASE" ] || BASE=$CACHE/bookworm-minbase-ansible.tar.gz
if [ ! -f "$BASE" ]; then
  say "debootstrap a Debian 12 minbase (first run only; cached as $BASE)"
  tmp=$(mktemp -d /var/tmp/kiosk-ansible-base.XXXXXX)
  chmod 755 "$tmp"   # mktemp's 0700 would become the root's mode: no user could reach /bin/sh
  debootstrap --variant=minbase --include=python3,ca-certificates bookworm "$tmp" "$MIRROR" >/dev/null
  tar -C "$tmp" --numeric-owner -czf "$BASE.tmp" . && mv "$BASE.tmp" "$BASE"
  rm -rf "$tmp"
fi
cleanup
mkdir -p "$ROOT"
say "unpack $(basename "$BASE") into $ROOT"
tar -C "$ROOT" --numeric-owner -xzf "$BASE"
chmod 755 "$ROOT"   # also for a base cached before the line above was added
cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf"
printf '#!/bin/sh\nexit 101\n' > "$ROOT/usr/sbin/policy-rc.d"   # no daemon starts in a chroot
chmod 755 "$ROOT/usr/sbin/policy-rc.d"
mount -t proc proc "$ROOT/proc"
mount --rbind /sys "$ROOT/sys" && mount --make-rslave "$ROOT/sys"
mount --bind /dev "$ROOT/dev"
mount --bind /dev/pts "$ROOT/dev/pts"
mkdir -p "$ROOT/root/.cache/pip" "$HOME/.cache/pip"
mount --bind "$HOME/.cache/pip" "$ROOT/root/.cache/pip"   # PyPI downloads are kept between runs
# This machine may reach PyPI through a TLS proxy with its own CA: trust what the host trusts.
if ls /usr/local/share/ca-certificates/*.crt >/dev/null 2>&1; then
  mkdir -p "$ROOT/usr/local/share/ca-certificates"
  cp /usr/local/share/ca-certificates/*.crt "$ROOT/usr/local/share/ca-certificates/"
  if [ ! -x "$ROOT/usr/sbin/update-ca-certificates" ]; then
    chroot "$ROOT" apt-get update -qq
    chroot "$ROOT" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ca-certificates >/dev/null
  fi
  chroot "$ROOT" update-ca-certificates >/dev/null 2>&1
fi
if [ ! -x "$ROOT/usr/bin/python3" ]; then
  say "python3 into the chroot (Ansible's modules need it)"
  chroot "$ROOT" apt-get update -qq
  chroot "$ROOT" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 >/dev/null
fi

# --- Release, curator's device, vault, inventory ------------------------------------------
say "release tarball of this working tree"
rel=$(OUT=$WORK/dist VERSION=test "$HERE/build-release.sh" --worktree)
version=$(sed -n 's/^kiosk_version: "\(.*\)"$/\1/p' <<<"$rel")
sha=$(sed -n 's/^kiosk_release_sha256: "\(.*\)"$/\1/p' <<<"$rel")
echo "$rel"

[ -f "$REPO/deploy/install.sh" ] || die "deploy/install.sh is not in the tree: the playbook runs it"

rm -rf "$WORK/curator"
syncthing generate --home="$WORK/curator" --no-default-folder --skip-port-probing >/dev/null 2>&1
curator_id=$(syncthing serve --home="$WORK/curator" --device-id)

echo "test-vault-password-$$" > "$WORK/vault-pass"
chmod 600 "$WORK/vault-pass"
pin_vault=$(ansible-vault encrypt_string --vault-password-file "$WORK/vault-pass" '4711' \
            --name kiosk_admin_pin 2>/dev/null | sed 's/^/          /')

inventory() {  # $1: the room
  cat > "$WORK/inventory.yml" <<INV
all:
  children:
    kiosks:
      vars:
        kiosk_version: "$version"
        kiosk_release_sha256: "$sha"
        kiosk_release_dir: "$WORK/dist"
        kiosk_curator_name: curators-laptop
        kiosk_curator_device_id: "$curator_id"
        kiosk_curator_address: 192.0.2.10
        kiosk_fleet_file: "$WORK/fleet-kiosks.txt"
        kiosk_settings_group:
          insights:
            retention_days: 30
      hosts:
        kiosk-chroot:
          ansible_connection: community.general.chroot
          ansible_host: "$ROOT"
          # root already; becoming the kiosk user (Syncthing's config) goes through su, and
          # that user's login shell is nologin
          ansible_become_method: su
          ansible_become_flags: "-s /bin/sh"
          kiosk_room: "$1"
          kiosk_language: fr
          kiosk_input_device: "USB PnP Sound Device"
          kiosk_rotation: 90
          kiosk_lan_address: 192.0.2.21
$pin_vault
INV
}

export ANSIBLE_CONFIG=$HERE/ansible.cfg ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 \
       ANSIBLE_VAULT_PASSWORD_FILE=$WORK/vault-pass ANSIBLE_LOCALHOST_WARNING=False
cd "$HERE"

play() {  # $1: label, then ansible-playbook arguments
  local label=$1; shift
  say "$label: ansible-playbook $*"
  local s e rc=0
  s=$(date +%s)
  ansible-playbook -i "$WORK/inventory.yml" site.yml "$@" > "$WORK/$label.log" 2>&1 || rc=$?
  e=$(date +%s)
  TIMES+=("$(printf '%-22s %4ss' "$label" $((e - s)))")
  grep -A3 '^PLAY RECAP' "$WORK/$label.log" | sed '/^$/d'
  if [ $rc -ne 0 ]; then tail -40 "$WORK/$label.log"; die "$label: ansible-playbook exit status $rc"; fi
}
recap() {  # $1 label, $2 key → the number in the recap
  sed -n "s/^kiosk-chroot *:.* $2=\([0-9]*\).*/\1/p" "$WORK/$1.log"
}
changed_tasks() {  # $1 label → names of tasks and handlers that reported changed, one a line
  awk '/^(TASK|RUNNING HANDLER) \[/ { t = $0; sub(/^[A-Z ]*\[/, "", t); sub(/\] \**$/, "", t) }
       /^changed: / { print t }' "$WORK/$1.log" | uniq
}
expect() {  # $1 label, $2 changed count
  [ "$(recap "$1" failed)" = 0 ] || die "$1: failed=$(recap "$1" failed)"
  [ "$(recap "$1" changed)" = "$2" ] || {
    changed_tasks "$1" | sed 's/^/  changed: /'; die "$1: changed=$(recap "$1" changed), expected $2"; }
}

inventory "Salle 1 — Impressionnistes"
ansible-playbook -i "$WORK/inventory.yml" site.yml --syntax-check >/dev/null || die "syntax"
play first-run
[ "$(recap first-run changed)" -gt 0 ] || die "first-run changed nothing"
[ "$(recap first-run failed)" = 0 ] || die "first-run failed"
changed_tasks first-run | sed 's/^/  changed: /'

play second-run
expect second-run 0

play check-run --check --diff
expect check-run 0

inventory "Salle 2 — Nymphéas"
play room-check --check --diff
expect room-check 1
play room-change
expect room-change 1
[ "$(changed_tasks room-change)" = "kiosk : Settings of this kiosk (room, language, PIN, microphone...)" ] \
  || die "room-change changed: $(changed_tasks room-change | tr '\n' ';')"
grep -q '^RUNNING HANDLER \[kiosk : Restart the kiosk app\]' "$WORK/room-change.log" \
  || die "room-change: the restart handler was not notified"
echo "  changed: $(changed_tasks room-change); handler notified: Restart the kiosk app (skipped: no systemd)"

play last-run
expect last-run 0

say "what the kiosk got"
settings=$ROOT/etc/kiosk/settings.toml
grep -q 'Salle 2 — Nymphéas' "$settings" || die "settings.toml lacks the new room"
grep -q '^admin_pin = "4711"$' "$settings" || die "settings.toml lacks the vault PIN"
grep -q '^language = "fr"$' "$settings" || die "settings.toml lacks the language"
grep -q '^input_device = "USB PnP Sound Device"$' "$settings" || die "settings.toml lacks the microphone"
grep -q '^retention_days = 30$' "$settings" || die "settings.toml lacks the group setting"
chroot "$ROOT" stat -c '%U:%G %a %n' /etc/kiosk/settings.toml
if chroot "$ROOT" /opt/kiosk/.venv/bin/kiosk settings --settings /dev/null | grep -q '^rotation = '; then
  grep -q '^rotation = 90$' "$settings" || die "settings.toml lacks [ui] rotation = 90"
  echo "rotation: [ui] rotation = 90 in settings.toml"
else
  grep -q 'KCFG_GRAPHICS_ROTATION=90' "$ROOT/etc/systemd/system/kiosk.service.d/ansible-display.conf" \
    || die "no rotation drop-in"
  echo "rotation: KCFG_GRAPHICS_ROTATION=90 in a drop-in of kiosk.service"
fi
chroot "$ROOT" /opt/kiosk/.venv/bin/kiosk settings --settings /etc/kiosk/settings.toml >/dev/null \
  || die "the kiosk refuses its settings"
grep -q "$curator_id" "$ROOT/var/lib/kiosk/.config/syncthing/config.xml" \
  || die "Syncthing's config does not know the curators' device"
grep -q 'type="receiveonly"' "$ROOT/var/lib/kiosk/.config/syncthing/config.xml" \
  || die "the kiosk's folder is not receive-only"
chroot "$ROOT" stat -c '%U:%G %a %n' /var/lib/kiosk/.config/syncthing/config.xml /var/lib/kiosk/incoming
grep -v '^#' "$WORK/fleet-kiosks.txt" | grep -q ' kiosk-chroot 192.0.2.21$' || die "fleet file"
echo "fleet file: $(grep -v '^#' "$WORK/fleet-kiosks.txt")"
echo "settings.toml (PIN hidden):"
sed 's/^admin_pin = .*/admin_pin = "****"/' "$settings" | sed 's/^/  /'

say "timings"
printf '  %s\n' "${TIMES[@]}"
echo "  total                  $(( $(date +%s) - T0 ))s"
echo "test-playbook: OK"
