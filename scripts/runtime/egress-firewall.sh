# shellcheck shell=bash
# Sourced by scripts/container-runtime.sh. The host rules that seal the agent's network
# (WORKER_EGRESS=allowlist): an "internal" network is not sealed on either engine (measured: the
# host answers on the internal bridge's gateway, and a Docker internal network even gets a default
# route through it). Every bridge whose name starts with the runtime's WORKER_EGRESS_BRIDGE_PREFIX
# may carry traffic only between its own members (a worker and its egress proxy):
#   INPUT    from such a bridge: dropped (the host: gateway, DNS, every host address), except
#            replies on connections the host opened (a preview's published 127.0.0.1 port, which
#            Docker's userland proxy forwards from the host to the container)
#   FORWARD  from such a bridge, routed elsewhere: dropped (other networks, other containers)
#   FORWARD  routed into such a bridge: dropped
#   FORWARD  bridged within one such bridge (worker <-> proxy): left to the engines' own rules
# The rules live in chains of the runtime's own (CWO-SEAL-<slot>-IN/-FWD) with one jump each from
# INPUT and FORWARD, for IPv4 and IPv6, so that removing them removes exactly what was added. They
# are in the mangle table, which the kernel runs before the filter table: the engines' own ACCEPT
# rules are in the filter table, inserted ahead of anything else (podman's CNI firewall plugin puts
# its jump first in FORWARD whenever it makes a network, and accepts a normal bridge's traffic out;
# measured with a preview's network, which must be a normal bridge to publish a port).
# `iptables -w`: several runtimes (and the engines) change the rules of one host at once.

seal_chain_in() { echo "CWO-SEAL-$1-IN"; }
seal_chain_fwd() { echo "CWO-SEAL-$1-FWD"; }
nat_chain() { echo "CWO-NAT-$1"; }

# The iptables programs in use: IPv6 only where the host has it.
seal_tools() {
  echo iptables
  ip6tables -w 10 -S INPUT >/dev/null 2>&1 && echo ip6tables
  return 0
}

seal_add() { # slot-id bridge-prefix
  local id=$1 prefix=$2 ipt in fwd
  in=$(seal_chain_in "$id")
  fwd=$(seal_chain_fwd "$id")
  # Rules of an earlier version of this script, in the filter table.
  seal_remove_table "$id" filter
  for ipt in $(seal_tools); do
    ipt="$ipt -t mangle"
    $ipt -w 10 -N "$in" 2>/dev/null || $ipt -w 10 -F "$in"
    $ipt -w 10 -A "$in" -i "$prefix+" -m conntrack --ctstate ESTABLISHED -j RETURN
    $ipt -w 10 -A "$in" -i "$prefix+" -j DROP
    $ipt -w 10 -N "$fwd" 2>/dev/null || $ipt -w 10 -F "$fwd"
    $ipt -w 10 -A "$fwd" -i "$prefix+" -m physdev --physdev-is-bridged -j RETURN
    $ipt -w 10 -A "$fwd" -i "$prefix+" -j DROP
    $ipt -w 10 -A "$fwd" -o "$prefix+" -j DROP
    $ipt -w 10 -C INPUT -j "$in" 2>/dev/null || $ipt -w 10 -I INPUT -j "$in"
    $ipt -w 10 -C FORWARD -j "$fwd" 2>/dev/null || $ipt -w 10 -I FORWARD -j "$fwd"
  done
}

# Docker's engine here runs with --iptables=false (see docker-engine.sh), so the source NAT that
# lets its normal networks reach beyond the host is this runtime's too.
nat_add() { # slot-id pool
  local chain
  chain=$(nat_chain "$1")
  iptables -w 10 -t nat -N "$chain" 2>/dev/null || iptables -w 10 -t nat -F "$chain"
  iptables -w 10 -t nat -A "$chain" -s "$2" ! -d "$2" -j MASQUERADE
  iptables -w 10 -t nat -C POSTROUTING -j "$chain" 2>/dev/null || iptables -w 10 -t nat -I POSTROUTING -j "$chain"
}

seal_remove_table() { # slot-id table
  local id=$1 table=$2 ipt chain
  for ipt in $(seal_tools); do
    ipt="$ipt -t $table"
    for chain in "$(seal_chain_in "$id"):INPUT" "$(seal_chain_fwd "$id"):FORWARD"; do
      while $ipt -w 10 -D "${chain#*:}" -j "${chain%%:*}" 2>/dev/null; do :; done
      $ipt -w 10 -F "${chain%%:*}" 2>/dev/null || true
      $ipt -w 10 -X "${chain%%:*}" 2>/dev/null || true
    done
  done
}

firewall_remove() { # slot-id
  local id=$1 chain
  seal_remove_table "$id" mangle
  seal_remove_table "$id" filter
  chain=$(nat_chain "$id")
  while iptables -w 10 -t nat -D POSTROUTING -j "$chain" 2>/dev/null; do :; done
  iptables -w 10 -t nat -F "$chain" 2>/dev/null || true
  iptables -w 10 -t nat -X "$chain" 2>/dev/null || true
}

# What is left of this runtime's rules (nothing once firewall_remove ran).
firewall_left() { # slot-id
  local id=$1 ipt
  for ipt in $(seal_tools); do
    $ipt -w 10 -S 2>/dev/null | grep -E -- "CWO-(SEAL|NAT)-$id-?" | sed "s/^/$ipt: /"
    $ipt -w 10 -t mangle -S 2>/dev/null | grep -E -- "CWO-SEAL-$id-" | sed "s/^/$ipt -t mangle: /"
  done
  iptables -w 10 -t nat -S 2>/dev/null | grep -E -- "CWO-NAT-$id\b" | sed 's/^/iptables -t nat: /'
  return 0
}

# Run directly, for a Docker host of your own (as root):
#   bash scripts/runtime/egress-firewall.sh add <prefix>      e.g. cwoeg (WORKER_EGRESS_BRIDGE_PREFIX)
#   bash scripts/runtime/egress-firewall.sh remove <prefix>
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -euo pipefail
  export PATH="$PATH:/usr/sbin:/sbin"
  prefix=${2:-}
  [[ "$prefix" =~ ^[a-z][a-z0-9]{1,6}$ ]] || { echo "usage: $0 add|remove <bridge prefix, 2-7 of [a-z0-9]>" >&2; exit 2; }
  case "${1:-}" in
    add) seal_add "$prefix" "$prefix"; echo "egress-firewall: bridges $prefix* sealed (chains $(seal_chain_in "$prefix"), $(seal_chain_fwd "$prefix"))" ;;
    remove) firewall_remove "$prefix"; echo "egress-firewall: rules for $prefix* removed" ;;
    *) echo "usage: $0 add|remove <prefix>" >&2; exit 2 ;;
  esac
fi
