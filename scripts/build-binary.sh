#!/usr/bin/env bash
# Builds the single binary: the CLI, the server and the dashboard in one file that needs nothing
# beside it (only Docker, Caddy and git on the machine, as `kiln serve` always does).
#   1. The dashboard, built by Vite from web/ into a fresh temp folder named `dashboard` (web/dist,
#      the copy `bun bin/kiln serve` serves from source, is left alone).
#   2. `bun build --compile bin/kiln`, embedding that folder with `--asset`: in the binary it sits at
#      `<import.meta.dir>/dashboard`, where src/http/dashboard.ts reads it.
# Usage: scripts/build-binary.sh [outfile]   (default: dist/kiln in the repository)
set -euo pipefail
out="$(realpath -m "${1:-$(dirname "$0")/../dist/kiln}")"
cd "$(dirname "$0")/.."

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT

bunx vite build web --outDir "$stage/dashboard" --emptyOutDir --logLevel warn
[ -f "$stage/dashboard/index.html" ] || { echo "build-binary: the dashboard build produced no index.html" >&2; exit 1; }

# bin/kiln has no extension: --loader=:ts makes Bun compile it as TypeScript, not embed it as a file.
bun build --compile bin/kiln --loader=:ts --asset "$stage/dashboard" --outfile "$out"
echo "build-binary: $out"
