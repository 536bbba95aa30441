#!/usr/bin/env bash
# Gives this machine two Docker Engine APIs and the worker image on both, with no Docker engine
# installed and no registry (see shared notes "containers"): podman's Docker-compatible socket and
# Debian's Docker Engine (docker.io, dockerd 20.10) beside it, a base image made with debootstrap
# plus the host's node binary, and the worker image built on each engine. It also adds the host
# firewall rules that seal the agent's network (scripts/runtime/egress-firewall.sh) and makes the
# normal network the egress proxies reach out through (`cwo-egress` on each engine).
#
# Idempotent and quick when everything is there: it installs only missing packages, starts a
# daemon only when its socket does not answer (or its configuration changed), builds the base only
# when neither the image nor its cached tarball exists, and rebuilds the worker image only when
# its build context changed.
#
# Usage:
#   bash scripts/container-runtime.sh          progress on stderr, `export …` lines on stdout
#   bash scripts/container-runtime.sh --env    the same, for `eval` (see scripts/test.sh)
#   bash scripts/container-runtime.sh --no-worker-image   skip the worker image builds
#   bash scripts/container-runtime.sh --stop   stops both engines and removes every container,
#                                              network, bridge, mount and firewall rule of this
#                                              runtime; fails, listing them, if any is left
#
# Environment:
#   CWO_CONTAINERS_DIR   state directory (default <repo>/.cache/containers): configs, storage,
#                        the sockets, the cached base image tarball, dockerd's data
#   CWO_ENGINES          podman,docker (default) or one of them
#   CWO_SKIP_APT=1       never run apt-get (fail instead when a tool is missing)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

BUILD_WORKER=1
STOP=0
for arg in "$@"; do
  case "$arg" in
    --env) ;; # stdout carries only the export lines in every mode
    --no-worker-image) BUILD_WORKER=0 ;;
    --stop) STOP=1 ;;
    *) echo "container-runtime: unknown argument $arg" >&2; exit 2 ;;
  esac
done
# Root from the start: apt-get, firewall rules, bridges, mounts and both daemons need it; without it
# the first of them would fail half-way, after some state was made.
if [ "$(id -u)" -ne 0 ]; then
  echo "container-runtime: must run as root (it installs packages, adds firewall rules and bridges, and runs" \
    "podman and dockerd): run it with sudo, or point DOCKER_HOST at a Docker engine you already have" >&2
  exit 1
fi
ENGINES=",${CWO_ENGINES:-podman,docker},"
want() { [[ "$ENGINES" == *",$1,"* ]]; }

say() { echo "container-runtime: $*" >&2; }
started_at=$(date +%s%N)
elapsed() { echo "$(( ($(date +%s%N) - started_at) / 1000000 )) ms"; }
# Sets CONFIG_CHANGED=1 when the file's contents changed.
write_if_changed() { # file, contents on stdin
  local tmp; tmp=$(mktemp "$1.XXXXXX")
  cat >"$tmp"
  if cmp -s "$tmp" "$1"; then rm -f "$tmp"; CONFIG_CHANGED=0; else mv "$tmp" "$1"; CONFIG_CHANGED=1; fi
}

DIR=${CWO_CONTAINERS_DIR:-$ROOT/.cache/containers}
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
SOCK="$DIR/podman.sock"
export CONTAINERS_CONF="$DIR/containers.conf"
export CONTAINERS_STORAGE_CONF="$DIR/storage.conf"
export DOCKER_HOST="unix://$SOCK"
export PATH="$PATH:/usr/sbin:/sbin"

# shellcheck source=runtime/slot.sh
source scripts/runtime/slot.sh
# shellcheck source=runtime/egress-firewall.sh
source scripts/runtime/egress-firewall.sh
# shellcheck source=runtime/docker-engine.sh
source scripts/runtime/docker-engine.sh
docker_engine_paths "$DIR"

# Several callers (helpers, test runs) may run this at once: one at a time.
exec 9>"$DIR/.lock"
flock 9

podman_ping() { curl -fsS --max-time 2 --unix-socket "$SOCK" http://d/_ping >/dev/null 2>&1; }
podman_stop_service() {
  if [ -f "$DIR/service.pid" ] && kill -0 "$(cat "$DIR/service.pid")" 2>/dev/null; then
    kill "$(cat "$DIR/service.pid")" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$(cat "$DIR/service.pid")" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$DIR/service.pid"
}
api() { # socket method path [json]
  curl -fsS --max-time 30 --unix-socket "$1" -X "$2" -H 'Content-Type: application/json' \
    ${4:+--data "$4"} "http://d$3"
}

# ---------------------------------------------------------------------------------------------
# --stop: both engines down, and nothing of this runtime left on the host.
if [ "$STOP" = 1 ]; then
  slot_n=$(cat "$DIR/slot" 2>/dev/null || true)
  slot=; [ -n "$slot_n" ] && slot=$(printf '%02d' "$slot_n")
  if [ -S "$DOCKER_SOCK" ] && docker_ping; then
    ids=$(DOCKER_HOST="unix://$DOCKER_SOCK" docker ps -aq)
    [ -n "$ids" ] && DOCKER_HOST="unix://$DOCKER_SOCK" docker rm -f $ids >/dev/null
    nets=$(DOCKER_HOST="unix://$DOCKER_SOCK" docker network ls -q --filter type=custom)
    [ -n "$nets" ] && DOCKER_HOST="unix://$DOCKER_SOCK" docker network rm $nets >/dev/null
  fi
  docker_engine_stop_daemon
  if command -v podman >/dev/null 2>&1 && [ -f "$CONTAINERS_CONF" ]; then
    podman rm -af -t 0 >/dev/null 2>&1 || true
    for net in $(podman network ls -q 2>/dev/null); do
      [ "$net" = podman ] || podman network rm -f "$net" >/dev/null 2>&1 || true
    done
  fi
  podman_stop_service
  # Mounts under the state directory (overlay layers, podman's private storage mount), deepest first.
  awk -v d="$DIR" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r |
    while read -r m; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
  if [ -n "$slot" ]; then
    # Bridges of this runtime's names or pools that an engine left behind.
    for dev in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1 | grep -E "^(cwe|cwx)$slot" || true); do
      ip link delete "$dev" 2>/dev/null || true
    done
    for dev in $(ip -4 -o addr show 2>/dev/null | awk '{print $2, $4}' | grep -E " 10\.($((100 + slot_n))|$((164 + slot_n)))\." | cut -d' ' -f1 | sort -u); do
      ip link delete "$dev" 2>/dev/null || true
    done
    firewall_remove "$slot"
  fi
  release_slot "$DIR"
  # What is left, if anything: a failure naming it.
  left=()
  if [ -n "$slot" ]; then
    while read -r l; do [ -n "$l" ] && left+=("rule $l"); done < <(firewall_left "$slot")
    while read -r l; do [ -n "$l" ] && left+=("interface $l"); done < <(ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | grep -E "^(cwe|cwx)$slot" || true)
    while read -r l; do [ -n "$l" ] && left+=("address $l"); done < <(ip -4 -o addr show | awk '{print $2, $4}' | grep -E " 10\.($((100 + slot_n))|$((164 + slot_n)))\." || true)
  fi
  while read -r l; do [ -n "$l" ] && left+=("mount $l"); done < <(awk -v d="$DIR" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo)
  while read -r l; do [ -n "$l" ] && left+=("process $l"); done < <(pgrep -af -- "$DIR" | grep -v -e "container-runtime.sh" -e pgrep || true)
  if [ ${#left[@]} -gt 0 ]; then
    say "stopped, but these are left behind:"
    printf '  %s\n' "${left[@]}" >&2
    exit 1
  fi
  say "stopped podman and dockerd; no container, network, bridge, mount or firewall rule of this runtime is left ($(elapsed))"
  exit 0
fi

# ---------------------------------------------------------------------------------------------
# 1. The tools. A fresh machine of this kind has apt and the Debian mirror, nothing else.
# catatonit: podman's --init (preview containers run their server under an init).
declare -A package_of=([podman]=podman [runc]=runc [conmon]=conmon [debootstrap]=debootstrap [iptables]=iptables [catatonit]=catatonit [dockerd]=docker.io [containerd]=containerd)
tools=(podman runc conmon debootstrap iptables catatonit)
want docker && tools+=(dockerd containerd)
missing=()
for tool in "${tools[@]}"; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("${package_of[$tool]}")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "${CWO_SKIP_APT:-0}" = 1 ]; then
    say "missing ${missing[*]} and CWO_SKIP_APT=1; install: apt-get install -y --no-install-recommends ${missing[*]}"
    exit 1
  fi
  say "installing ${missing[*]}"
  SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq >&2
  # No recommends: docker.io would bring a whole toolchain besides.
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

# 2. This runtime's slot on the host: its subnets, bridge names and firewall chains.
slot_n=$(claim_slot "$DIR")
SLOT=$(printf '%02d' "$slot_n")
PODMAN_POOL="10.$((100 + slot_n)).0.0/16"
DOCKER_POOL="10.$((164 + slot_n)).0.0/16"
SEAL_PREFIX="cwe$SLOT"
EGRESS_NETWORK=cwo-egress

# 3. Configuration. crun fails on this cgroup v1 hybrid host (runc works); the default ulimits
# exceed the hard limits root has here without CAP_SYS_RESOURCE; journald is not running. The
# networks are this runtime's own (not the host-wide /etc/containers/networks), from its slot's pool.
hard_nofile=$(ulimit -Hn)
[ "$hard_nofile" = unlimited ] && hard_nofile=1048576
hard_nproc=$(ulimit -Hu)
nproc=32768
if [ "$hard_nproc" != unlimited ] && [ "$hard_nproc" -lt "$nproc" ]; then nproc=$hard_nproc; fi
mkdir -p "$DIR/networks"
write_if_changed "$CONTAINERS_CONF" <<EOF
# Written by scripts/container-runtime.sh.
[containers]
default_ulimits = ["nofile=$hard_nofile:$hard_nofile", "nproc=$nproc:$nproc"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
tmp_dir = "$DIR/tmp"

[network]
network_config_dir = "$DIR/networks"
default_subnet_pools = [{ "base" = "$PODMAN_POOL", "size" = 24 }]
EOF
podman_conf_changed=$CONFIG_CHANGED
write_if_changed "$CONTAINERS_STORAGE_CONF" <<EOF
# Written by scripts/container-runtime.sh: storage of its own, apart from any other podman use.
[storage]
driver = "overlay"
graphroot = "$DIR/storage"
runroot = "$DIR/run"
EOF
[ "$CONFIG_CHANGED" = 1 ] && podman_conf_changed=1

# 4. podman's Docker API socket.
if want podman; then
  if podman_ping && [ "$podman_conf_changed" = 0 ]; then
    say "podman API already answering on $SOCK"
  else
    if [ -f "$DIR/service.pid" ] && kill -0 "$(cat "$DIR/service.pid")" 2>/dev/null; then
      say "stopping the podman service (pid $(cat "$DIR/service.pid")): its configuration changed or it no longer answers"
    fi
    podman_stop_service
    rm -f "$SOCK"
    say "starting podman system service on $SOCK"
    # setsid: the service outlives this script and the shell that called it. The lock fds are not
    # passed on, or the service would hold the lock for ever. It runs in the state directory:
    # conmon drops files (an `oom` marker when a container is OOM-killed) in its working directory.
    (cd "$DIR" && exec setsid podman system service --time=0 "unix://$SOCK" </dev/null >>"$DIR/service.log" 2>&1 9>&- 7>&-) &
    echo $! >"$DIR/service.pid"
    for _ in $(seq 1 100); do podman_ping && break; sleep 0.1; done
    if ! podman_ping; then
      say "the podman API did not answer on $SOCK; its log ($DIR/service.log) ends with:"
      tail -n 20 "$DIR/service.log" >&2
      exit 1
    fi
    say "podman API up ($(elapsed))"
  fi
fi

# 5. Debian's Docker Engine beside it.
if want docker; then docker_engine_start "$DIR" "$DOCKER_POOL"; fi

# 6. The host rules that seal the agent's networks, and the egress network on each engine.
seal_add "$SLOT" "$SEAL_PREFIX"
want docker && nat_add "$SLOT" "$DOCKER_POOL"
if want podman && ! api "$SOCK" GET "/v4.0.0/libpod/networks/$EGRESS_NETWORK/exists" >/dev/null 2>&1; then
  # DNS off: the proxy resolves through the host's resolvers; no aardvark-dns to run.
  api "$SOCK" POST /v4.0.0/libpod/networks/create \
    "{\"name\":\"$EGRESS_NETWORK\",\"driver\":\"bridge\",\"network_interface\":\"cwx${SLOT}p\",\"dns_enabled\":false,\"labels\":{\"cwo.runtime\":\"egress\"}}" >/dev/null
  say "made the $EGRESS_NETWORK network on podman (bridge cwx${SLOT}p)"
fi
if want docker && ! api "$DOCKER_SOCK" GET "/networks/$EGRESS_NETWORK" >/dev/null 2>&1; then
  api "$DOCKER_SOCK" POST /networks/create \
    "{\"Name\":\"$EGRESS_NETWORK\",\"CheckDuplicate\":true,\"Options\":{\"com.docker.network.bridge.name\":\"cwx${SLOT}d\"},\"Labels\":{\"cwo.runtime\":\"egress\"}}" >/dev/null
  say "made the $EGRESS_NETWORK network on the Docker Engine (bridge cwx${SLOT}d)"
fi

# 7. The base image: Debian bookworm (minbase) with what checks of ordinary projects need
# (docs/checks.md: python3 with pytest, git; sh and coreutils come with minbase) plus the host's
# node binary, tagged with the node version and the package list, so that a new host node or a new
# package makes a new base. Cached as a tarball between runs; loaded into the Docker Engine from it.
NODE_BIN=$(command -v node)
NODE_VERSION=$(node --version)
BASE_PACKAGES=python3,python3-pytest,git
BASE_TAG="bookworm-node-$NODE_VERSION-$(printf %s "$BASE_PACKAGES" | sha256sum | cut -c1-8)"
BASE_IMAGE="localhost/cwo-worker-base:$BASE_TAG"
BASE_TAR="$DIR/images/cwo-worker-base-$BASE_TAG.tar"
debian_mirror() {
  local f=/etc/apt/sources.list.d/debian.sources uri=
  [ -f "$f" ] && uri=$(awk '/^URIs:/ { print $2; exit }' "$f")
  [ -z "$uri" ] && [ -f /etc/apt/sources.list ] && uri=$(awk '$1 == "deb" && $2 !~ /security/ { print $2; exit }' /etc/apt/sources.list)
  echo "${uri:-http://deb.debian.org/debian}"
}
if podman image exists "$BASE_IMAGE"; then
  say "base image $BASE_IMAGE present"
elif [ -s "$BASE_TAR" ]; then
  say "loading $BASE_IMAGE from $BASE_TAR"
  podman load -q -i "$BASE_TAR" >&2
else
  mirror=$(debian_mirror)
  rootfs="$DIR/rootfs.tmp"
  rm -rf "$rootfs"
  say "building $BASE_IMAGE: debootstrap minbase bookworm with $BASE_PACKAGES from $mirror (a few minutes)"
  debootstrap --variant=minbase --include="$BASE_PACKAGES" bookworm "$rootfs" "$mirror" >"$DIR/debootstrap.log" 2>&1 || {
    say "debootstrap failed; $DIR/debootstrap.log ends with:"; tail -n 20 "$DIR/debootstrap.log" >&2; exit 1; }
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  install -m 0755 "$NODE_BIN" "$rootfs/usr/local/bin/node"
  # The same unprivileged user as the node:20 images (uid/gid 1000), so WORKER_UID=1000:1000 has a
  # name and a home wherever the image comes from.
  echo 'node:x:1000:1000::/home/node:/bin/sh' >>"$rootfs/etc/passwd"
  echo 'node:x:1000:' >>"$rootfs/etc/group"
  install -d -o 1000 -g 1000 "$rootfs/home/node"
  env -i "$(command -v chroot)" "$rootfs" /usr/local/bin/node -e 'process.exit(0)' || {
    say "the host's node ($NODE_BIN) does not run in a bookworm root filesystem"; exit 1; }
  env -i PATH=/usr/bin:/bin "$(command -v chroot)" "$rootfs" sh -c 'python3 -m pytest --version && git --version' >/dev/null 2>&1 || {
    say "the base image lacks python3 -m pytest or git (see $DIR/debootstrap.log)"; exit 1; }
  tar -C "$rootfs" -c . | podman import -q \
    --change 'ENV=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD=["node"]' - "$BASE_IMAGE" >&2
  rm -rf "$rootfs"
  mkdir -p "$DIR/images"
  rm -f "$DIR"/images/cwo-worker-base-*.tar
  podman save -q -o "$BASE_TAR.tmp" "$BASE_IMAGE" && mv "$BASE_TAR.tmp" "$BASE_TAR"
  say "base image built and cached ($(elapsed))"
fi
if want docker && ! DOCKER_HOST="unix://$DOCKER_SOCK" docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  say "loading $BASE_IMAGE into the Docker Engine"
  DOCKER_HOST="unix://$DOCKER_SOCK" docker load -q -i "$BASE_TAR" >&2
fi

# The environment for callers, also kept in a file for scripts/worker-image.sh and shells.
# DOCKER_HOST stays podman's (the default engine of the tests and of a runner started here);
# CWO_DOCKER_ENGINE_HOST is the Docker Engine's, for the tests and benchmarks run on both.
write_if_changed "$DIR/env.sh" <<EOF
export DOCKER_HOST=unix://$SOCK
export CWO_PODMAN_HOST=unix://$SOCK
export CWO_DOCKER_ENGINE_HOST=unix://$DOCKER_SOCK
export CONTAINERS_CONF=$CONTAINERS_CONF
export CONTAINERS_STORAGE_CONF=$CONTAINERS_STORAGE_CONF
export CWO_WORKER_BASE_IMAGE=$BASE_IMAGE
export WORKER_EGRESS_NETWORK=$EGRESS_NETWORK
export WORKER_EGRESS_BRIDGE_PREFIX=$SEAL_PREFIX
EOF

# 8. The worker image on each engine (rebuilt only when its context changed). Built on the Docker
# Engine from the base tarball rather than saved from podman and loaded: 8 s against 17 s here.
if [ "$BUILD_WORKER" = 1 ]; then
  if want podman; then
    CWO_CONTAINERS_DIR="$DIR" WORKER_BUILD_CLI=podman CWO_WORKER_BASE_IMAGE="$BASE_IMAGE" \
      bash scripts/worker-image.sh >&2
  fi
  if want docker; then
    # The legacy builder: the docker CLI here has no buildx, and the build needs no BuildKit feature.
    DOCKER_HOST="unix://$DOCKER_SOCK" DOCKER_BUILDKIT=0 WORKER_BUILD_CLI=docker CWO_WORKER_BASE_IMAGE="$BASE_IMAGE" \
      bash scripts/worker-image.sh >&2
  fi
fi

say "ready in $(elapsed) (slot $SLOT; podman $PODMAN_POOL, Docker Engine $DOCKER_POOL)"
cat "$DIR/env.sh"
