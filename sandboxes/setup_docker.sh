#!/usr/bin/env bash
# Make a Docker engine (>= 24, with compose v2) usable, then exit 0 when `docker info` answers.
#
# - An engine that already answers: nothing is installed or started.
# - Engine installed but not running (no systemd): dockerd is started in the background.
# - No engine, or one older than 24 (Debian 12's docker.io is 20.10, which Inspect refuses):
#   Debian packages are installed; docker.io / docker-cli / docker-compose come from the next
#   Debian release (trixie), fetched with a private apt state so the system's sources stay as
#   they are. The mirror is the one the system's apt already uses.
set -euo pipefail

MIN_MAJOR=24
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
log() { echo "[setup_docker] $*" >&2; }

engine_major() {
  local v
  v=$(docker version --format '{{.Server.Version}}' 2>/dev/null || true)
  [[ -n "$v" ]] && echo "${v%%.*}" || echo 0
}

dockerd_major() {
  local v
  v=$(dockerd --version 2>/dev/null | sed -E 's/^Docker version ([0-9]+).*/\1/' || true)
  [[ "$v" =~ ^[0-9]+$ ]] && echo "$v" || echo 0
}

compose_ok() { docker compose version >/dev/null 2>&1; }

if [[ $(engine_major) -ge $MIN_MAJOR ]] && compose_ok; then
  log "Docker engine $(docker version --format '{{.Server.Version}}') is ready"
  exit 0
fi

debian_mirror() {
  # the Debian mirror the system already uses (deb822 or one-line format)
  local uri
  uri=$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | grep -v security | head -1 | awk '{print $2}')
  if [[ -z "$uri" ]]; then
    uri=$(grep -hs '^deb ' /etc/apt/sources.list | grep -v security | head -1 | sed -E 's/^deb (\[[^]]*\] )?([^ ]+).*/\2/')
  fi
  echo "$uri"
}

install_engine() {
  command -v apt-get >/dev/null || { log "no apt-get: install Docker Engine >= $MIN_MAJOR with compose v2 by hand (https://docs.docker.com/engine/install/)"; exit 1; }
  log "installing Docker engine packages"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends docker.io mmdebstrap iptables ca-certificates >/dev/null
  if [[ $(dockerd_major) -lt $MIN_MAJOR ]] || ! compose_ok; then
    local mirror state
    mirror=$(debian_mirror)
    [[ -n "$mirror" ]] || { log "cannot find the Debian mirror in /etc/apt"; exit 1; }
    state=$(mktemp -d)
    chmod 755 "$state"  # apt's download user must be able to write here
    mkdir -p "$state/lists/partial" "$state/cache/archives/partial"
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror trixie main" >"$state/sources.list"
    local opts=(-o "Dir::Etc::sourcelist=$state/sources.list" -o "Dir::Etc::sourceparts=-"
                -o "Dir::State::Lists=$state/lists" -o "Dir::Cache=$state/cache")
    log "fetching docker.io, docker-cli and docker-compose from trixie ($mirror)"
    $SUDO apt-get "${opts[@]}" update -qq
    (cd "$state" && $SUDO apt-get "${opts[@]}" download docker.io/trixie docker-cli/trixie docker-compose/trixie >/dev/null)
    # docker-cli "breaks" the old docker.io that the same dpkg call replaces
    $SUDO dpkg -i --auto-deconfigure "$state"/*.deb >/dev/null
    rm -rf "$state"
  fi
}

if [[ $(dockerd_major) -lt $MIN_MAJOR ]] || ! compose_ok; then
  install_engine
fi

if ! docker info >/dev/null 2>&1; then
  log "starting dockerd"
  if command -v systemctl >/dev/null && systemctl is-system-running >/dev/null 2>&1; then
    $SUDO systemctl start docker
  else
    $SUDO sh -c 'nohup dockerd >/var/log/dockerd.log 2>&1 &'
  fi
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
fi

if [[ $(engine_major) -lt $MIN_MAJOR ]]; then
  log "Docker engine did not come up (>= $MIN_MAJOR needed); see /var/log/dockerd.log"
  exit 1
fi
compose_ok || { log "docker compose v2 is missing"; exit 1; }
log "Docker engine $(docker version --format '{{.Server.Version}}') is ready"
