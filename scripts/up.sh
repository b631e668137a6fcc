#!/usr/bin/env bash
# One command from a fresh machine to a running Kiln: set up, then `kiln serve` on the embedded defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec bun bin/kiln serve "$@"
