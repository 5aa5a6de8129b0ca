#!/usr/bin/env bash
# Idempotent setup: virtualenv + this package, front-end assets from npm, and
# (with --test) the test extras and Debian's Chromium for the browser tests.
# A second run with nothing changed takes about a second.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=build    # the widest of the flags given: --bench (test + bench extras) > --test > build
for arg in "$@"; do
    case "$arg" in
        --bench) mode=--bench ;;
        --test) [ "$mode" = "--bench" ] || mode=--test ;;
        *) echo "setup: unknown option $arg (use --test or --bench)" >&2; exit 2 ;;
    esac
done
extras=""
[ "$mode" = "--test" ] && extras="[test]"
[ "$mode" = "--bench" ] && extras="[test,bench]"

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    echo "setup: creating .venv"
    "$PY" -m venv .venv
fi
hash=$(sha256sum < pyproject.toml | cut -c1-16)
stamp=".venv/.installed-${hash}-${mode#--}"
# the test and bench extras include the runtime: a build needs no reinstall after them
if [ "$mode" = "build" ] && ls .venv/.installed-"${hash}"-* >/dev/null 2>&1; then
    stamp=$(ls .venv/.installed-"${hash}"-* | head -n 1)
fi
if [ ! -f "$stamp" ]; then
    echo "setup: installing the package ${extras:-(runtime only)}"
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e ".${extras}"
    touch "$stamp"
fi

apt_install() {  # Debian packages, as root or through sudo
    SUDO=""
    [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}

if [ -f package.json ]; then
    if ! command -v npm >/dev/null 2>&1; then
        echo "setup: installing Debian's nodejs and npm (for the site's front-end assets)"
        apt_install nodejs npm
    fi
    if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
        echo "setup: npm ci (Leaflet and plugins for site/assets)"
        npm ci --no-audit --no-fund --loglevel=error
    fi
fi

if [ "$mode" = "--test" ] || [ "$mode" = "--bench" ]; then
    if ! command -v chromium >/dev/null 2>&1; then
        echo "setup: installing Debian's chromium for browser tests"
        apt_install chromium
    fi
fi
