#!/usr/bin/env bash
# Grafts the gift-code module into a Monacoin Core source tree:
#   1. checks that TREE is a git checkout of the pinned upstream commit
#      (depends/upstream.env), with or without this series already applied;
#   2. applies patches/monacoin-0.20.3/ with `git am` (a second run finds the
#      series applied and leaves it alone);
#   3. links every file of this checkout's plugin/ into TREE/src/giftcode;
#   4. writes TREE/src/giftcode_build_id.h, the build id that
#      getgiftcodeinfo reports (same value as cmake/BuildId.cmake).
# It never builds: building the tree is done the way upstream documents,
# with the notes in doc/building.md.
#
# Usage: contrib/graft.sh TREE
set -euo pipefail

die() { echo "graft: $*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: contrib/graft.sh TREE"
root=$(cd "$(dirname "$0")/.." && pwd)
tree=$(cd "$1" 2>/dev/null && pwd) || die "no such directory: $1"
# shellcheck source=../depends/upstream.env
. "$root/depends/upstream.env"
series_dir="$root/patches/monacoin-0.20.3"
mapfile -t patches < <(find "$series_dir" -maxdepth 1 -name '*.patch' | LC_ALL=C sort)
[ "${#patches[@]}" -gt 0 ] || die "no patches in $series_dir"

git -C "$tree" rev-parse --git-dir >/dev/null 2>&1 || die "$tree is not a git checkout"
[ -f "$tree/src/wallet/wallet.cpp" ] || die "$tree does not look like a Monacoin Core tree"
git -C "$tree" cat-file -e "$UPSTREAM_COMMIT^{commit}" 2>/dev/null \
  || die "$tree does not contain upstream commit $UPSTREAM_COMMIT ($UPSTREAM_TAG)"

# Subjects of the series, in order, as `git am` records them.
subjects=()
for p in "${patches[@]}"; do
  subjects+=("$(git mailinfo /dev/null /dev/null < "$p" | sed -n 's/^Subject: //p')")
done
head=$(git -C "$tree" rev-parse HEAD)
if [ "$head" = "$UPSTREAM_COMMIT" ]; then
  [ -z "$(git -C "$tree" status --porcelain --untracked-files=no)" ] \
    || die "$tree has uncommitted changes; graft into a clean checkout of $UPSTREAM_TAG"
  echo "graft: applying ${#patches[@]} patches onto $UPSTREAM_TAG"
  GIT_COMMITTER_NAME="graft" GIT_COMMITTER_EMAIL="graft@localhost" \
    git -C "$tree" am --quiet --keep-cr "${patches[@]}" \
    || { git -C "$tree" am --abort 2>/dev/null || true; die "the series does not apply; nothing was changed"; }
else
  base=$(git -C "$tree" rev-parse "HEAD~${#patches[@]}" 2>/dev/null || true)
  [ "$base" = "$UPSTREAM_COMMIT" ] \
    || die "$tree is at $head, neither $UPSTREAM_TAG ($UPSTREAM_COMMIT) nor it plus this series"
  mapfile -t applied < <(git -C "$tree" log --reverse --format=%s "$UPSTREAM_COMMIT..HEAD")
  [ "${applied[*]}" = "${subjects[*]}" ] \
    || die "$tree carries other commits on $UPSTREAM_TAG than this series; graft into a fresh checkout"
  echo "graft: series already applied"
fi

# Link the module: src/giftcode is a real folder of the tree holding one
# link per file of plugin/, so the node's build writes its objects into the
# tree, never into this checkout. Links to files that left plugin/ go.
dest="$tree/src/giftcode"
if [ -L "$dest" ]; then rm "$dest"; fi
mkdir -p "$dest"
cp -rsf "$root/plugin/." "$dest/"
find "$dest" -xtype l -delete

# The build id (contrib/build-id defines it).
build_id=$("$root/contrib/build-id")
header="$tree/src/giftcode_build_id.h"
printf '// Written by contrib/graft.sh; names the gift-code sources compiled in.\n#define GIFTCODE_BUILD_ID "%s"\n' \
  "$build_id" > "$header.tmp"
if cmp -s "$header.tmp" "$header" 2>/dev/null; then rm "$header.tmp"; else mv "$header.tmp" "$header"; fi

# Keep the graft out of the tree's git status.
exclude="$(git -C "$tree" rev-parse --git-path info/exclude)"
case "$exclude" in /*) ;; *) exclude="$tree/$exclude" ;; esac
mkdir -p "$(dirname "$exclude")"
for pattern in /src/giftcode /src/giftcode_build_id.h; do
  grep -qxF "$pattern" "$exclude" 2>/dev/null || echo "$pattern" >> "$exclude"
done

cat <<EOF
graft: done. $tree is $UPSTREAM_TAG plus ${#patches[@]} patches; src/giftcode links $root/plugin; build id $build_id.
graft: next, build the tree as upstream documents (its doc/build-unix.md); doc/building.md in
graft: this project lists the configure options that matter and how to check the result.
EOF
