# shellcheck shell=bash
# Sourced by scripts/container-runtime.sh. Every runtime on this host (one per checkout: worktrees,
# CI clones) gets a slot number of its own, 0-63, so that its subnets, bridge names and firewall
# chains collide with no other runtime's: the host's network stack and iptables are shared.
#
# The slots are files in /run/cwo-container-runtime (a tmpfs: a reboot frees them all), each naming
# the state directory that holds it; the state directory keeps its number in `slot`. A slot is
# free when its file is missing or names a directory that no longer claims it.

SLOTS_DIR=/run/cwo-container-runtime
SLOT_COUNT=64

slot_holder() { cat "$SLOTS_DIR/slot-$1" 2>/dev/null || true; }

# Is any address of slot N's pools on an interface of this host (a runtime that lost its state)?
slot_addresses_live() {
  ip -4 -o addr show 2>/dev/null | awk '{print $4}' | grep -qE "^10\.($((100 + $1))|$((164 + $1)))\."
}

# Prints this runtime's slot, claiming a free one the first time.
claim_slot() { # state-dir
  local dir=$1 n holder
  mkdir -p "$SLOTS_DIR"
  exec 7>"$SLOTS_DIR/.lock"
  flock 7
  if [ -f "$dir/slot" ]; then
    n=$(cat "$dir/slot")
    if [ "$(slot_holder "$n")" = "$dir" ] || [ -z "$(slot_holder "$n")" ]; then
      echo "$dir" >"$SLOTS_DIR/slot-$n"
      exec 7>&-
      echo "$n"
      return 0
    fi
  fi
  for n in $(seq 0 $((SLOT_COUNT - 1))); do
    holder=$(slot_holder "$n")
    if [ -n "$holder" ] && [ "$(cat "$holder/slot" 2>/dev/null)" = "$n" ]; then continue; fi
    slot_addresses_live "$n" && continue
    echo "$dir" >"$SLOTS_DIR/slot-$n"
    echo "$n" >"$dir/slot"
    exec 7>&-
    echo "$n"
    return 0
  done
  exec 7>&-
  echo "container-runtime: all $SLOT_COUNT runtime slots of this host are taken (see $SLOTS_DIR)" >&2
  return 1
}

release_slot() { # state-dir
  local dir=$1 n
  [ -f "$dir/slot" ] || return 0
  n=$(cat "$dir/slot")
  mkdir -p "$SLOTS_DIR"
  exec 7>"$SLOTS_DIR/.lock"
  flock 7
  [ "$(slot_holder "$n")" = "$dir" ] && rm -f "$SLOTS_DIR/slot-$n"
  rm -f "$dir/slot"
  exec 7>&-
}
