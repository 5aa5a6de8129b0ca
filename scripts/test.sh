#!/usr/bin/env bash
# Quick start, command 2: set everything up and run the whole test suite.
#   bash scripts/test.sh          # the CI suite (slow scale tests excluded)
#   bash scripts/test.sh --slow   # only the slow scale tests
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
marker="not slow"
if [ "${1:-}" = "--slow" ]; then marker="slow"; shift; fi
exec .venv/bin/python -m pytest -n 2 --dist loadfile -m "$marker" -q "$@"
