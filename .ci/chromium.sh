#!/usr/bin/env bash
# Debian's Chromium for the dashboard's browser test (tests/dashboard/test_browser.py).
#
#   bash .ci/chromium.sh          install it when /usr/bin/chromium is missing; print its version
#
# Needs only Debian/Ubuntu with apt (as root, or through sudo). Idempotent: when the browser is
# already there nothing is installed. The test drives this binary through Playwright's Python
# package (the `dev` extra) with `executable_path`; Playwright's own browser downloads are never
# used. Progress goes to stderr; stdout carries only the browser's version.

set -euo pipefail

CHROMIUM="${PLAYBOOK_CHROMIUM:-/usr/bin/chromium}"

say() {
    printf 'chromium.sh: %s\n' "$*" >&2
}

as_root() {
    if [[ "$(id -u)" == "0" ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        say "installing Chromium needs root (or sudo): run 'apt-get install -y chromium' as root"
        exit 1
    fi
}

if [[ ! -x "$CHROMIUM" ]]; then
    command -v apt-get >/dev/null 2>&1 || { say "no apt-get here: install Chromium at $CHROMIUM by hand"; exit 1; }
    say "installing Chromium from apt (missing at $CHROMIUM)"
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get update -qq >&2
    as_root apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >&2
    [[ -x "$CHROMIUM" ]] || { say "apt installed chromium, but $CHROMIUM is still missing"; exit 1; }
else
    say "Chromium is already installed at $CHROMIUM"
fi

"$CHROMIUM" --version --no-sandbox 2>/dev/null || echo "chromium at $CHROMIUM"
