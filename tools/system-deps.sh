#!/usr/bin/env bash
# Installs the Debian packages Keizoku needs that the machine lacks: `run` (web + PDFs, and
# gettext's msgfmt for the English catalogue) or `test` (also Chromium, the Japanese fonts,
# pdftotext, gettext's xgettext/msgmerge for the catalogue test, HAProxy for the fault suite).
# Only as root on Debian; elsewhere it
# says what is missing and leaves the machine alone.
set -euo pipefail
profile=${1:-run}
packages=(fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 gettext)
if [ "$profile" = test ]; then
  packages+=(chromium poppler-utils haproxy)
fi
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "Missing system packages: ${missing[*]} (install them with your package manager)." >&2
  [ "$profile" = test ] && exit 1
  exit 0
fi
echo "Installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
