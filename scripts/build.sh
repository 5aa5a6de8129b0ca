#!/usr/bin/env bash
# Quick start, command 1: set everything up and build the atlas into site/
# from the embedded default data (a simulated OCO-2 month over the CoCO2
# catalogue, unless real Lite files are in dataset/oco2/). Extra arguments go
# to `atlas build` (e.g. --strict, --out DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/atlas build "$@"
