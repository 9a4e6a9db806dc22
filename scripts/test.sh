#!/usr/bin/env bash
# The whole test suite: lint, types, the browser modules under Node's own test runner
# (no npm packages), then pytest (which starts its own servers).
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check .
scripts/typecheck.sh
node --test tests/js/*.test.mjs
.venv/bin/python -m pytest "$@"
