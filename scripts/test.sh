#!/usr/bin/env bash
# One command from a fresh machine to the whole test suite, against the real Docker engine and Caddy.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# The Swarm tests (test/swarm) run on a single-node swarm of this engine, on loopback.
if [ "$(docker info --format '{{.Swarm.LocalNodeState}}')" = "inactive" ]; then
  docker swarm init --advertise-addr 127.0.0.1 >/dev/null
fi
bunx tsc --noEmit -p .
bunx tsc --noEmit -p web
exec bun test --timeout 300000 "$@"
