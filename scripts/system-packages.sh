#!/usr/bin/env bash
# Debian packages the project needs beyond Python: gettext's msgfmt to compile the message
# catalogues, Chromium and its driver for the browser tests (tests/browser/), fonts to render
# text with, npm for axe-core. Idempotent and quiet:
# it installs only what is missing, and only Debian's builds, so nothing downloads a browser
# or a driver at run time. Without root it says what is missing and leaves it at that.
set -euo pipefail

# file that must exist -> Debian package that provides it
declare -A wanted=(
    [/usr/bin/chromium]=chromium
    [/usr/bin/chromedriver]=chromium-driver
    [/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf]=fonts-dejavu-core
    [/usr/bin/msgfmt]=gettext
)

missing=()
for path in "${!wanted[@]}"; do
    [ -e "$path" ] || missing+=("${wanted[$path]}")
done
command -v npm >/dev/null 2>&1 || missing+=(npm)
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
    echo "system-packages: missing ${missing[*]}, and this is no Debian system: install them by hand" >&2
    exit 0
fi
sudo=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo=(sudo -n)
    else
        echo "system-packages: missing ${missing[*]}; run 'make install' as root to install them" >&2
        exit 0
    fi
fi

echo "system-packages: installing ${missing[*]}"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
export DEBIAN_FRONTEND=noninteractive
# A fresh machine has no package lists yet, and old lists may name versions that are gone.
if ! { "${sudo[@]}" apt-get update -qq &&
       "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
    cat "$log" >&2
    echo "system-packages: could not install ${missing[*]}" >&2
    exit 1
fi
