#!/usr/bin/env bash
# One command from a fresh machine to the whole test suite, against the real Docker engine and Caddy.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bunx tsc --noEmit -p .
bunx tsc --noEmit -p web
exec bun test --timeout 300000 "$@"
