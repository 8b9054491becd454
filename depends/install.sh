#!/usr/bin/env bash
# Installs the Debian packages this project needs; safe to run again (only
# missing packages are fetched). Run as root.
#   depends/install.sh          packages to build and test the module
#   depends/install.sh --node   also those needed to build monacoind by hand
#   depends/install.sh --list   print the package names and exit
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
lists=("$here/packages-project.txt")
list_only=0
for arg in "$@"; do
  case "$arg" in
    --node) lists+=("$here/packages-node.txt") ;;
    --list) list_only=1 ;;
    *) echo "usage: $0 [--node] [--list]" >&2; exit 2 ;;
  esac
done
mapfile -t wanted < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "${lists[@]}" | sort -u)
if [ "$list_only" = 1 ]; then printf '%s\n' "${wanted[@]}"; exit 0; fi
missing=()
for pkg in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "depends: all ${#wanted[@]} packages present"
  exit 0
fi
echo "depends: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
