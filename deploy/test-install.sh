#!/usr/bin/env bash
# Test deploy/install.sh end to end in fresh Debian 12 chroots (`make test-deploy`, as root):
#
#   online   a fresh minbase root: install.sh, install.sh again (must change nothing),
#            `kiosk doctor --json --quick` (or `kiosk models verify` while doctor is not there),
#            `kiosk ask "who painted the milkmaid"` as the kiosk user, --uninstall (what
#            remains is checked), then --uninstall --purge
#   offline  deploy/wheelhouse.sh for this machine's arch, then a second fresh root with no
#            network at all (unshare -n): install.sh without --offline must refuse in one line,
#            install.sh --offline WHEELHOUSE must install, a second run must change nothing,
#            and the same question must be answered
#
#   deploy/test-install.sh [--online-only | --offline-only] [--keep]
#
# Caches (KIOSK_CI_CACHE, default ~/.cache/kiosk-ci): the debootstrap base tarball, the .debs
# and pip downloads the chroots reuse, the wheelhouse's .debs. Each step's time is printed.
set -euo pipefail
umask 022
REPO=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${KIOSK_CI_CACHE:-$HOME/.cache/kiosk-ci}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
QUESTION="who painted the milkmaid"
ONLINE=1 OFFLINE=1 KEEP=0
for arg in "$@"; do
  case "$arg" in
    --online-only) OFFLINE=0 ;;
    --offline-only) ONLINE=0 ;;
    --keep) KEEP=1 ;;
    -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "test-install: unknown option '$arg'" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "test-install: run me as root (debootstrap, chroot, mounts)" >&2; exit 2; }
ARCH=$(dpkg --print-architecture)
BASE=$CACHE/bookworm-minbase-$ARCH.tar.zst
mkdir -p "$CACHE/apt-archives/partial" "$CACHE/pip" "$CACHE/debs-$ARCH"
WORK=$(mktemp -d /var/tmp/kiosk-test-install.XXXXXX)
T0=$SECONDS
TIMES=()
FAILED=0

log() { echo "test-install: $*"; }
fail() { echo "test-install: FAIL: $*" >&2; FAILED=1; }
step() {  # step NAME COMMAND… — run, time, record
  local name=$1 start=$SECONDS rc=0
  shift
  log "── $name"
  "$@" || rc=$?
  TIMES+=("$(printf '%-58s %5d s  %s' "$name" $((SECONDS - start)) "$([ $rc -eq 0 ] && echo ok || echo "FAILED ($rc)")")")
  [ $rc -eq 0 ] || FAILED=1
  return $rc
}

unmount_all() {  # every mount under $1, deepest first
  local m
  awk -v root="$1" '$2 == root || index($2, root "/") == 1 {print $2}' /proc/mounts | sort -r \
    | while read -r m; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
}
cleanup() {
  local root
  for root in "$WORK"/root-*; do [ -d "$root" ] && unmount_all "$root"; done
  if grep -q " $WORK/" /proc/mounts; then
    echo "test-install: mounts remain under $WORK — not deleting it" >&2
  elif [ "$KEEP" = 1 ]; then
    log "kept $WORK"
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

in_root() {  # in_root ROOT COMMAND… — a clean environment inside the chroot
  local root=$1; shift
  chroot "$root" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/root LANG=C.UTF-8 TERM=dumb "$@"
}

# -- the base: debootstrap --variant=minbase bookworm, cached as a tarball -------------------------
make_base() {
  command -v debootstrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap zstd >/dev/null
  command -v zstd >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq zstd >/dev/null
  if [ -f "$BASE" ]; then log "base: cached $BASE"; return; fi
  local build=$CACHE/base-build.$$
  rm -rf "$build"
  debootstrap --variant=minbase --arch="$ARCH" bookworm "$build" "$MIRROR" > "$CACHE/debootstrap.log" 2>&1 \
    || { tail -5 "$CACHE/debootstrap.log"; return 1; }
  # keep the package lists, drop the .debs debootstrap left behind
  rm -f "$build"/var/cache/apt/archives/*.deb
  tar -C "$build" --numeric-owner -cf - . | zstd -q -T0 -3 -o "$BASE.tmp"
  mv "$BASE.tmp" "$BASE"
  rm -rf "$build"
  log "base: made $BASE ($(du -h "$BASE" | cut -f1))"
}

host_cas() {  # CAs this host trusts beyond Debian's (an HTTPS-inspecting proxy): the chroot too
  mkdir -p "$1"
  python3 - "$1" <<'EOF'
import glob, re, sys
pem = re.compile(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S)
known = {c for f in glob.glob("/usr/share/ca-certificates/**/*.crt", recursive=True)
         for c in pem.findall(open(f).read())}
try:
    host = pem.findall(open("/etc/ssl/certs/ca-certificates.crt").read())
except OSError:
    host = []
for n, c in enumerate(c for c in host if c not in known):
    open(f"{sys.argv[1]}/kiosk-ci-host-{n}.crt", "w").write(c + "\n")
EOF
}

new_root() {  # new_root NAME [net] — a fresh root with /proc /sys /dev and the repository
  local root=$WORK/root-$1
  mkdir -p "$root"
  zstd -q -d -c "$BASE" | tar -C "$root" --numeric-owner -xf -
  mount -t proc proc "$root/proc"
  mount --rbind /sys "$root/sys"; mount --make-rslave "$root/sys"
  mount --rbind /dev "$root/dev"; mount --make-rslave "$root/dev"
  if [ "${2:-}" = net ]; then
    cp -L /etc/resolv.conf "$root/etc/resolv.conf"
    host_cas "$root/usr/local/share/ca-certificates"
    # reuse downloads between runs: apt's .debs and pip's cache (models included)
    mount --bind "$CACHE/apt-archives" "$root/var/cache/apt/archives"
    mkdir -p "$root/root/.cache/pip"
    mount --bind "$CACHE/pip" "$root/root/.cache/pip"
  else
    : > "$root/etc/resolv.conf"
  fi
  # the working tree as a technician would copy it (tracked and new files, no .venv or caches)
  mkdir -p "$root/root/kiosk-src"
  (cd "$REPO" && git ls-files -co --exclude-standard -z | while IFS= read -r -d '' f; do
     [ -e "$f" ] && printf '%s\0' "$f"; done | tar --null -T - -cf -) | tar -C "$root/root/kiosk-src" -xf -
}

expect_in() {  # expect_in TEXT PATTERN WHAT
  if grep -qE -- "$2" <<< "$1"; then log "ok: $3"; else fail "$3 — got: $(tail -3 <<< "$1")"; return 1; fi
}

check_kiosk() {  # the installed kiosk answers, as its own user; doctor or models verify
  local root=$1 out
  if [ -f "$root/opt/kiosk/kiosk/doctor.py" ]; then
    out=$(in_root "$root" runuser -u kiosk -- env KIOSK_DATA_DIR=/var/lib/kiosk \
          /usr/local/bin/kiosk doctor --json --quick 2>&1) || true
    # In a chroot there is no sound card: only the install's own checks must pass.
    python3 - "$out" <<'EOF' || { fail "kiosk doctor: a model or the content is not ok"; return 1; }
import json, sys
report = json.loads(sys.argv[1])
checks = {c["name"]: c for c in report["checks"]}
for c in report["checks"]:
    print(f"  doctor: {c['name']}: {c['status']} — {c['detail']}")
mine = [c for n, c in checks.items() if n == "content" or n.startswith("model ")]
sys.exit(0 if mine and all(c["status"] == "ok" for c in mine) else 1)
EOF
    log "ok: kiosk doctor --json --quick: content and models ok (no sound card in a chroot)"
  else
    log "note: kiosk/doctor.py is not in the tree yet — running kiosk models verify instead"
    out=$(in_root "$root" runuser -u kiosk -- env KIOSK_DATA_DIR=/var/lib/kiosk \
          /usr/local/bin/kiosk models verify 2>&1) || true
    echo "$out"
    expect_in "$out" 'use-multilingual-v3-int8: ok' "encoder verified" || return 1
    expect_in "$out" 'whisper-base: ok' "whisper-base verified" || return 1
  fi
  out=$(in_root "$root" runuser -u kiosk -- env KIOSK_DATA_DIR=/var/lib/kiosk \
        /usr/local/bin/kiosk ask "$QUESTION" 2>&1) || true
  echo "$out" | head -8
  expect_in "$out" 'Vermeer' "kiosk ask \"$QUESTION\" (as kiosk) names Vermeer" || return 1
  out=$(in_root "$root" find /var/lib/kiosk ! -user kiosk)
  if [ -n "$out" ]; then fail "not owned by kiosk: $(head -3 <<< "$out")"; return 1; fi
  log "ok: everything in /var/lib/kiosk belongs to kiosk"
  out=$(in_root "$root" stat -c '%a %U:%G' /etc/kiosk/settings.toml)
  expect_in "$out" '^640 root:kiosk$' "settings.toml is 640 root:kiosk" || return 1
  out=$(in_root "$root" id kiosk)
  expect_in "$out" 'audio.*video|video.*audio' "kiosk is in audio/video ($out)" || return 1
  log "sizes: $(in_root "$root" du -sh /opt/kiosk/.venv /var/lib/kiosk | tr '\n\t' '  ')"
}

second_run_changes_nothing() {
  local out
  out=$(in_root "$1" bash /root/kiosk-src/deploy/install.sh "${@:2}" 2>&1) || { echo "$out"; return 1; }
  echo "$out"
  expect_in "$out" 'nothing to change' "the second run changes nothing"
}

uninstall_keeps_data() {
  local root=$1 out left
  in_root "$root" bash /root/kiosk-src/deploy/install.sh --uninstall || return 1
  left=""
  for p in /opt/kiosk /usr/local/bin/kiosk /etc/systemd/system/kiosk.service /etc/systemd/system/kiosk-content-sync.service; do
    [ -e "$root$p" ] && left+=" $p"
  done
  [ -z "$left" ] || { fail "left after --uninstall:$left"; return 1; }
  for p in /var/lib/kiosk/models /var/lib/kiosk/versions /etc/kiosk/settings.toml; do
    [ -e "$root$p" ] || { fail "--uninstall removed $p"; return 1; }
  done
  log "ok: after --uninstall: /opt/kiosk, the command and the units are gone; kept: $(cd "$root" && du -sh var/lib/kiosk etc/kiosk | tr '\n\t' '  ')"
  in_root "$root" bash /root/kiosk-src/deploy/install.sh --uninstall --purge || return 1
  out=$(cd "$root"; ls -d var/lib/kiosk etc/kiosk 2>/dev/null || true)
  if [ -n "$out" ] || in_root "$root" id kiosk >/dev/null 2>&1; then
    fail "left after --purge: $out $(in_root "$root" id kiosk 2>/dev/null)"; return 1
  fi
  log "ok: after --purge: no /var/lib/kiosk, no /etc/kiosk, no user kiosk"
}

refuses_without_network() {
  local out rc=0
  out=$(unshare -n chroot "$1" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
        bash /root/kiosk-src/deploy/install.sh 2>&1) || rc=$?
  echo "$out" | tail -2
  [ $rc -ne 0 ] || { fail "install.sh without network and without --offline succeeded"; return 1; }
  expect_in "$(tail -1 <<< "$out")" 'no network.*--offline' "no network and no --offline: one clear line"
}

offline_install() {
  local root=$1
  unshare -n chroot "$root" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/root LANG=C.UTF-8 bash -c '
      python3 -c "import urllib.request; urllib.request.urlopen(\"https://pypi.org\", timeout=5)" 2>/dev/null \
        && { echo "the offline root can reach pypi.org" >&2; exit 1; }
      bash /root/kiosk-src/deploy/install.sh --offline /root/wheelhouse'
}

second_run_offline() {
  local out
  out=$(offline_in_root "$1" bash /root/kiosk-src/deploy/install.sh --offline /root/wheelhouse 2>&1) \
    || { echo "$out"; return 1; }
  echo "$out"
  expect_in "$out" 'nothing to change' "offline: the second run changes nothing"
}

ask_offline() {
  local out
  out=$(offline_in_root "$1" runuser -u kiosk -- env KIOSK_DATA_DIR=/var/lib/kiosk \
        /usr/local/bin/kiosk ask "$QUESTION" 2>&1) || true
  echo "$out" | head -8
  expect_in "$out" 'Vermeer' "offline: kiosk ask names Vermeer with no network"
}

offline_in_root() { local root=$1; shift; unshare -n chroot "$root" /usr/bin/env -i \
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }

log "work folder $WORK, cache $CACHE, arch $ARCH"
step "base image (debootstrap minbase, cached)" make_base

if [ "$ONLINE" = 1 ]; then
  R1=$WORK/root-online
  step "online: fresh root" new_root online net
  step "online: install.sh" in_root "$R1" bash /root/kiosk-src/deploy/install.sh || true
  step "online: install.sh again (must change nothing)" second_run_changes_nothing "$R1" || true
  step "online: doctor/verify + kiosk ask as kiosk" check_kiosk "$R1" || true
  step "online: --uninstall, then --purge" uninstall_keeps_data "$R1" || true
  unmount_all "$R1"; [ "$KEEP" = 1 ] || rm -rf "$R1"
fi

if [ "$OFFLINE" = 1 ]; then
  WH=$WORK/wheelhouse
  R2=$WORK/root-offline
  step "offline: wheelhouse.sh --arch $ARCH" env PIP_CACHE_DIR="$CACHE/pip" \
    "$REPO/deploy/wheelhouse.sh" --arch "$ARCH" -o "$WH" --deb-cache "$CACHE/debs-$ARCH" || true
  step "offline: fresh root, no network" new_root offline
  mkdir -p "$R2/root/wheelhouse"
  mount --bind "$WH" "$R2/root/wheelhouse"; mount -o remount,bind,ro "$R2/root/wheelhouse"
  step "offline: install.sh with no network and no --offline refuses" refuses_without_network "$R2" || true
  step "offline: install.sh --offline (unshare -n)" offline_install "$R2" || true
  step "offline: install.sh --offline again (must change nothing)" second_run_offline "$R2" || true
  step "offline: kiosk ask as kiosk (no network)" ask_offline "$R2" || true
fi

echo
echo "test-install: summary ($ARCH, cache $CACHE)"
printf '  %s\n' "${TIMES[@]}"
printf '  %-58s %5d s\n' "total" $((SECONDS - T0))
if [ "$FAILED" = 0 ]; then echo "test-install: PASS"; else echo "test-install: FAIL"; exit 1; fi
