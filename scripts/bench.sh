#!/usr/bin/env bash
# Benchmarks (docs/performance.md, docs/realism.md, docs/validation.md):
#   bash scripts/bench.sh            # speed (issue 15): netCDF4 floor vs atlas detect vs oco2peak, month + dense set, Dask
#   bash scripts/bench.sh [speed|detect|e2e|all|realism|validation] [--orbits N] [--year] [--seeds 1,2,3] ...
# Installs the `bench` extra (the volunteer team's oco2peak detector as the reference) into .venv.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --bench
exec .venv/bin/python -m bench "$@"
