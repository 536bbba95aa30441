# shellcheck shell=bash
# Sourced by scripts/container-runtime.sh. Debian's Docker Engine (docker.io, dockerd 20.10) beside
# podman, with every path of its own under the state directory (data root, exec root, pidfile,
# socket, config), so it touches no other Docker on the host:
#   --bridge=none        no default docker0 (another dockerd's, or the host's, would collide)
#   --iptables=false     dockerd flushes and rebuilds its global DOCKER chains when it starts and
#                        sets FORWARD's policy to DROP: two of them on one host (every checkout runs
#                        one) would break each other, and podman's networks. The rules this
#                        runtime needs are its own (egress-firewall.sh), so what is tested is
#                        sealed by them alone.
#   default-address-pools  the slot's own /16 (see slot.sh), cut into /24 networks.
# The userland proxy stays on: with no iptables it is what publishes ports (-p 127.0.0.1:…).

docker_engine_paths() { # state-dir
  DOCKER_DIR="$1/docker"
  DOCKER_SOCK="$DOCKER_DIR/docker.sock"
  DOCKER_PIDFILE="$DOCKER_DIR/docker.pid"
  DOCKER_CONFIG_FILE="$DOCKER_DIR/daemon.json"
}

docker_ping() { curl -fsS --max-time 2 --unix-socket "$DOCKER_SOCK" http://d/_ping >/dev/null 2>&1; }

docker_engine_start() { # state-dir pool
  docker_engine_paths "$1"
  mkdir -p "$DOCKER_DIR/root" "$DOCKER_DIR/exec"
  write_if_changed "$DOCKER_CONFIG_FILE" <<JSON
{
  "bridge": "none",
  "iptables": false,
  "ip-masq": false,
  "ip-forward": false,
  "default-address-pools": [{ "base": "$2", "size": 24 }],
  "log-driver": "json-file",
  "log-opts": { "max-size": "10m", "max-file": "2" }
}
JSON
  if docker_ping && [ "$CONFIG_CHANGED" = 0 ]; then
    say "Docker Engine already answering on $DOCKER_SOCK"
    return 0
  fi
  docker_engine_stop_daemon
  rm -f "$DOCKER_SOCK"
  say "starting dockerd on $DOCKER_SOCK"
  (cd "$DOCKER_DIR" && exec setsid dockerd --config-file "$DOCKER_CONFIG_FILE" \
    --data-root "$DOCKER_DIR/root" --exec-root "$DOCKER_DIR/exec" --pidfile "$DOCKER_PIDFILE" \
    -H "unix://$DOCKER_SOCK" </dev/null >>"$DOCKER_DIR/dockerd.log" 2>&1 9>&- 7>&-) &
  for _ in $(seq 1 150); do docker_ping && break; sleep 0.1; done
  if ! docker_ping; then
    say "dockerd did not answer on $DOCKER_SOCK; its log ($DOCKER_DIR/dockerd.log) ends with:"
    tail -n 20 "$DOCKER_DIR/dockerd.log" >&2
    return 1
  fi
  say "Docker Engine up ($(elapsed))"
}

docker_engine_stop_daemon() {
  local pid
  [ -s "$DOCKER_PIDFILE" ] || return 0
  pid=$(cat "$DOCKER_PIDFILE")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && { say "dockerd $pid did not stop in 20 s: killing it"; kill -KILL "$pid" 2>/dev/null || true; sleep 0.5; }
  fi
  rm -f "$DOCKER_PIDFILE"
}
