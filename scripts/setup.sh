#!/usr/bin/env bash
# Sets up everything Kiln needs on a Debian 12 machine, idempotently (a second run takes seconds):
#   1. Debian packages: docker.io (the engine), caddy (the ingress), git, rclone, busybox-static
#      (the base of the locally assembled runtime image), ca-certificates; python3-venv and
#      golang-go, which the Python and Go runtime images are assembled from (venv/pip, go build);
#      postgresql, whose binaries the store tests run a throwaway cluster with (test/helpers/postgres.ts);
#      docker-registry, the registry Kiln runs on loopback for KILN_ENGINE=swarm (no image to pull). [root: apt-get]
#   2. Bun, from the npm registry (npm i -g bun).                                  [root: global npm]
#   3. A running Docker engine: starts dockerd in the background when none answers. [root]
#   4. The project's own dependencies (bun install).
#   5. The dashboard (bun run build:web → web/dist), rebuilt only when web/ changed; chromium is
#      for the dashboard's browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
die() { printf '\033[31m[setup] %s\033[0m\n' "$*" >&2; exit 1; }

if [ "$(id -u)" -ne 0 ]; then
  die "run as root (sudo bash $0): it installs Debian packages and starts the Docker engine"
fi

packages=(docker.io caddy git rclone busybox-static ca-certificates curl chromium python3-venv golang-go postgresql docker-registry)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  say "Debian packages present"
fi
# Kiln runs docker-registry itself, on loopback (KILN_ENGINE=swarm): not the package's own service on :5000.
if command -v systemctl >/dev/null 2>&1 && systemctl is-enabled docker-registry >/dev/null 2>&1; then
  systemctl disable --now docker-registry >/dev/null 2>&1 || true
fi

if ! command -v bun >/dev/null 2>&1; then
  say "installing Bun (npm i -g bun)"
  npm i -g bun >/dev/null 2>&1 || die "npm i -g bun failed"
fi
say "bun $(bun --version)"

docker_answers() { curl -sf --max-time 2 --unix-socket /var/run/docker.sock http://localhost/_ping >/dev/null 2>&1; }
if ! docker_answers; then
  say "starting the Docker engine (dockerd, log in /var/log/kiln-dockerd.log)"
  # A stale pid file from a killed dockerd stops a new one from starting.
  if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then rm -f /var/run/docker.pid; fi
  setsid nohup dockerd >/var/log/kiln-dockerd.log 2>&1 < /dev/null &
  for _ in $(seq 1 60); do docker_answers && break; sleep 0.5; done
  docker_answers || { tail -20 /var/log/kiln-dockerd.log >&2; die "the Docker engine did not start; see /var/log/kiln-dockerd.log"; }
fi
say "Docker engine $(curl -s --unix-socket /var/run/docker.sock http://localhost/version | sed -n 's/.*"Version":"\([^"]*\)".*"ApiVersion".*/\1/p' | head -1) answering"

say "installing dependencies (bun install)"
bun install --frozen-lockfile >/dev/null 2>&1 || bun install >/dev/null

if [ ! -f web/dist/index.html ] || [ -n "$(find web/src web/index.html web/vite.config.ts package.json -newer web/dist/index.html 2>/dev/null | head -1)" ]; then
  say "building the dashboard (bun run build:web)"
  bun run build:web >/dev/null || die "bun run build:web failed; run it by hand to see why"
else
  say "dashboard built"
fi
say "ready"
