#!/usr/bin/env bash
# mypy --strict over the project. The folders are mapped under one namespace by
# setuptools (pyproject), which mypy cannot follow through an editable install,
# so we give it the same mapping as a tree of symlinks.
set -euo pipefail
cd "$(dirname "$0")/.."
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
mkdir "$tree/results_online"
for f in results_online/*; do ln -s "$PWD/$f" "$tree/results_online/"; done
for d in build commands keys verify_app templates; do ln -s "$PWD/$d" "$tree/results_online/$d"; done
cd "$tree" && "$OLDPWD/.venv/bin/mypy" --config-file "$OLDPWD/pyproject.toml" -p results_online
