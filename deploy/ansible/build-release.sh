#!/usr/bin/env bash
# Build a release tarball of the kiosk for Ansible to install, and its sha256.
#
#   deploy/ansible/build-release.sh              # HEAD → deploy/ansible/dist/kiosk-<describe>.tar.gz
#   deploy/ansible/build-release.sh v1.4.0       # any git ref (tag, branch, commit)
#   deploy/ansible/build-release.sh --worktree   # the working tree as it is (tests, trials)
#   OUT=/some/dir deploy/ansible/build-release.sh v1.4.0
#
# The same ref always gives the same bytes (git archive; gzip without a timestamp), so the
# sha256 printed can be pinned in group_vars (kiosk_version, kiosk_release_sha256) and checked
# again by anyone. The tarball holds the source tree under kiosk-<version>/ (no .venv, no
# models: deploy/install.sh makes those on the kiosk). Prints the two lines to paste.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(git -C "$here" rev-parse --show-toplevel)
out=${OUT:-$here/dist}
ref=${1:-HEAD}
mkdir -p "$out"

if [ "$ref" = "--worktree" ]; then
  # Tracked and untracked-but-not-ignored files as they are now; fixed owner, mtime and order.
  version=${VERSION:-$(git -C "$repo" describe --always --tags --dirty 2>/dev/null || echo dev)-worktree}
  tarball="$out/kiosk-$version.tar.gz"
  list=$(mktemp)
  trap 'rm -f "$list"' EXIT
  (cd "$repo" && git ls-files -z --cached --others --exclude-standard \
      | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done \
      | sort -z) > "$list"
  tar -C "$repo" --sort=name --owner=0 --group=0 --numeric-owner \
      --mtime='2000-01-01 00:00:00Z' --transform "s,^,kiosk-$version/," \
      --no-recursion --null -cf - -T "$list" | gzip -n -9 > "$tarball.tmp"
else
  commit=$(git -C "$repo" rev-parse --verify "$ref^{commit}")
  version=${VERSION:-$(git -C "$repo" describe --always --tags "$commit")}
  tarball="$out/kiosk-$version.tar.gz"
  git -C "$repo" archive --format=tar --prefix="kiosk-$version/" "$commit" | gzip -n -9 > "$tarball.tmp"
fi
mv "$tarball.tmp" "$tarball"
sum=$(sha256sum "$tarball" | cut -d' ' -f1)
printf '%s  %s\n' "$sum" "$(basename "$tarball")" > "$tarball.sha256"
echo "built $tarball ($(du -h "$tarball" | cut -f1))" >&2
echo "kiosk_version: \"$version\""
echo "kiosk_release_sha256: \"$sum\""
