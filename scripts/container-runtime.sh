#!/usr/bin/env bash
# Gives this machine a Docker Engine API and the worker image, with no Docker engine and no
# registry (see shared notes "containers"): podman's Docker-compatible socket, a base image made
# with debootstrap plus the host's node binary, and the worker image built on top of it.
#
# Idempotent and quick when everything is there: it installs only missing packages, starts the
# service only when the socket does not answer, builds the base only when neither the image nor
# its cached tarball exists, and rebuilds the worker image only when its build context changed.
#
# Usage:
#   bash scripts/container-runtime.sh          progress on stderr, `export …` lines on stdout
#   bash scripts/container-runtime.sh --env    the same, for `eval` (see scripts/test.sh)
#   bash scripts/container-runtime.sh --no-worker-image   skip the worker image build
#
# Environment:
#   CWO_CONTAINERS_DIR   state directory (default <repo>/.cache/containers): configs, storage,
#                        the socket, the cached base image tarball
#   CWO_SKIP_APT=1       never run apt-get (fail instead when a tool is missing)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

BUILD_WORKER=1
for arg in "$@"; do
  case "$arg" in
    --env) ;; # stdout carries only the export lines in every mode
    --no-worker-image) BUILD_WORKER=0 ;;
    *) echo "container-runtime: unknown argument $arg" >&2; exit 2 ;;
  esac
done

say() { echo "container-runtime: $*" >&2; }
started_at=$(date +%s%N)
elapsed() { echo "$(( ($(date +%s%N) - started_at) / 1000000 )) ms"; }

DIR=${CWO_CONTAINERS_DIR:-$ROOT/.cache/containers}
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
SOCK="$DIR/podman.sock"
export CONTAINERS_CONF="$DIR/containers.conf"
export CONTAINERS_STORAGE_CONF="$DIR/storage.conf"
export DOCKER_HOST="unix://$SOCK"

# Several callers (helpers, test runs) may run this at once: one at a time.
exec 9>"$DIR/.lock"
flock 9

# 1. The tools. A fresh machine of this kind has apt and the Debian mirror, nothing else.
missing=()
for tool in podman runc conmon debootstrap; do
  command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "${CWO_SKIP_APT:-0}" = 1 ]; then
    say "missing ${missing[*]} and CWO_SKIP_APT=1; install: apt-get install -y podman runc conmon debootstrap"
    exit 1
  fi
  say "installing podman runc conmon debootstrap (missing: ${missing[*]})"
  SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq podman runc conmon debootstrap >&2
fi
export PATH="$PATH:/usr/sbin:/sbin"

# 2. Configuration. crun fails on this cgroup v1 hybrid host (runc works); the default ulimits
# exceed the hard limits root has here without CAP_SYS_RESOURCE; journald is not running.
hard_nofile=$(ulimit -Hn)
[ "$hard_nofile" = unlimited ] && hard_nofile=1048576
hard_nproc=$(ulimit -Hu)
nproc=32768
if [ "$hard_nproc" != unlimited ] && [ "$hard_nproc" -lt "$nproc" ]; then nproc=$hard_nproc; fi
write_if_changed() { # file, contents on stdin
  local tmp; tmp=$(mktemp "$1.XXXXXX")
  cat >"$tmp"
  if cmp -s "$tmp" "$1"; then rm -f "$tmp"; else mv "$tmp" "$1"; fi
}
write_if_changed "$CONTAINERS_CONF" <<EOF
# Written by scripts/container-runtime.sh.
[containers]
default_ulimits = ["nofile=$hard_nofile:$hard_nofile", "nproc=$nproc:$nproc"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
tmp_dir = "$DIR/tmp"
EOF
write_if_changed "$CONTAINERS_STORAGE_CONF" <<EOF
# Written by scripts/container-runtime.sh: storage of its own, apart from any other podman use.
[storage]
driver = "overlay"
graphroot = "$DIR/storage"
runroot = "$DIR/run"
EOF

# 3. The Docker API socket.
ping() { curl -fsS --max-time 2 --unix-socket "$SOCK" http://d/_ping >/dev/null 2>&1; }
if ping; then
  say "podman API already answering on $SOCK"
else
  if [ -f "$DIR/service.pid" ] && kill -0 "$(cat "$DIR/service.pid")" 2>/dev/null; then
    say "stopping the podman service that no longer answers (pid $(cat "$DIR/service.pid"))"
    kill "$(cat "$DIR/service.pid")" 2>/dev/null || true
    sleep 0.5
  fi
  rm -f "$SOCK"
  say "starting podman system service on $SOCK"
  # setsid: the service outlives this script and the shell that called it. The lock fd is not
  # passed on, or the service would hold the lock for ever. It runs in the state directory:
  # conmon drops files (an `oom` marker when a container is OOM-killed) in its working directory.
  (cd "$DIR" && exec setsid podman system service --time=0 "unix://$SOCK" </dev/null >>"$DIR/service.log" 2>&1 9>&-) &
  echo $! >"$DIR/service.pid"
  for _ in $(seq 1 100); do ping && break; sleep 0.1; done
  if ! ping; then
    say "the podman API did not answer on $SOCK; its log ($DIR/service.log) ends with:"
    tail -n 20 "$DIR/service.log" >&2
    exit 1
  fi
  say "podman API up ($(elapsed))"
fi

# 4. The base image: Debian bookworm (minbase) plus the host's node binary, tagged with the node
# version so a new host node makes a new base. Cached as a tarball between runs.
NODE_BIN=$(command -v node)
NODE_VERSION=$(node --version)
BASE_IMAGE="localhost/cwo-worker-base:bookworm-node-$NODE_VERSION"
BASE_TAR="$DIR/images/cwo-worker-base-bookworm-node-$NODE_VERSION.tar"
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
  say "building $BASE_IMAGE: debootstrap minbase bookworm from $mirror (about 30 s)"
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$DIR/debootstrap.log" 2>&1 || {
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
  tar -C "$rootfs" -c . | podman import -q \
    --change 'ENV=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD=["node"]' - "$BASE_IMAGE" >&2
  rm -rf "$rootfs"
  mkdir -p "$DIR/images"
  rm -f "$DIR"/images/cwo-worker-base-*.tar
  podman save -q -o "$BASE_TAR.tmp" "$BASE_IMAGE" && mv "$BASE_TAR.tmp" "$BASE_TAR"
  say "base image built and cached ($(elapsed))"
fi

# The environment for callers, also kept in a file for scripts/worker-image.sh and shells.
write_if_changed "$DIR/env.sh" <<EOF
export DOCKER_HOST=unix://$SOCK
export CONTAINERS_CONF=$CONTAINERS_CONF
export CONTAINERS_STORAGE_CONF=$CONTAINERS_STORAGE_CONF
export CWO_WORKER_BASE_IMAGE=$BASE_IMAGE
EOF

# 5. The worker image (rebuilt only when its context changed).
if [ "$BUILD_WORKER" = 1 ]; then
  CWO_CONTAINERS_DIR="$DIR" WORKER_BUILD_CLI=podman CWO_WORKER_BASE_IMAGE="$BASE_IMAGE" \
    bash scripts/worker-image.sh >&2
fi

say "ready in $(elapsed)"
cat "$DIR/env.sh"
