#!/usr/bin/env bash
# The whole test suite: lint, types, then pytest (which starts its own servers).
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check .
scripts/typecheck.sh
.venv/bin/python -m pytest "$@"
