# shellcheck shell=bash
# bench/lib.sh — helpers shared by the bench/ scripts. Source it; it defines functions only
# (plus a few read-only facts), and never changes shell options of the caller.
#
# What the caller provides: PROG (name for messages) and BENCH_TMP (a private temp dir) before
# calling anything that starts processes; bench_cleanup is meant for `trap ... EXIT`.

# shellcheck disable=SC2034 # used by the scripts that source this file
{
	BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
	REPO_DIR=$(cd "$BENCH_DIR/.." && pwd)
	CLK_TCK=$(getconf CLK_TCK)
}

# The repository's shell helpers (find_bin, alive, port_owner, ...); the
# definitions below override its messages and port_open for the bench scripts.
# shellcheck source=scripts/lib.sh
source "$REPO_DIR/scripts/lib.sh"

# ---------------------------------------------------------------- messages
note() { printf '%s: %s\n' "${PROG:-bench}" "$*" >&2; }
die() { printf '%s: error: %s\n' "${PROG:-bench}" "$*" >&2; exit 1; }
usage_error() { printf '%s: %s (see --help)\n' "${PROG:-bench}" "$*" >&2; exit 2; }

# need_uint NAME: the variable NAME holds a non-negative integer, or usage error.
need_uint() {
	[[ ${!1} =~ ^[0-9]+$ ]] || usage_error "$1 must be a non-negative integer, got '${!1}'"
}
# need_pos NAME: a positive integer.
need_pos() {
	need_uint "$1"
	((${!1} > 0)) || usage_error "$1 must be positive"
}

# ---------------------------------------------------------------- tools
# ensure_packages CMD:PKG...: install the Debian packages of the missing commands with apt-get.
ensure_packages() {
	local item cmd pkg missing=()
	for item in "$@"; do
		cmd=${item%%:*} pkg=${item#*:}
		find_bin "$cmd" >/dev/null || missing+=("$pkg")
	done
	((${#missing[@]})) || return 0
	note "installing ${missing[*]} (apt-get)"
	local sudo=()
	if ((EUID != 0)); then
		command -v sudo >/dev/null || die "missing ${missing[*]}, and no sudo: install them as root"
		sudo=(sudo -n)
	fi
	command -v apt-get >/dev/null || die "missing ${missing[*]}, and no apt-get to install them"
	local log=${BENCH_TMP:-/tmp}/apt.log
	local apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -y -q)
	if ! "${apt[@]}" install "${missing[@]}" >"$log" 2>&1; then
		# A fresh machine has no package lists yet.
		if ! { "${apt[@]}" update >>"$log" 2>&1 && "${apt[@]}" install "${missing[@]}" >>"$log" 2>&1; }; then
			tail -n 20 "$log" >&2
			die "apt-get install ${missing[*]} failed"
		fi
	fi
	for item in "$@"; do
		find_bin "${item%%:*}" >/dev/null || die "${item#*:} installed, but ${item%%:*} is still not found"
	done
}

# ---------------------------------------------------------------- processes and CPU
# proc_ticks PID: utime+stime of the process (all its threads, live and exited), in clock ticks.
proc_ticks() {
	local stat f
	[[ -r /proc/$1/stat ]] || return 1
	read -r stat <"/proc/$1/stat" 2>/dev/null || return 1
	stat=${stat##*) } # comm may hold spaces and parentheses: cut after the last ") "
	read -r -a f <<<"$stat"
	# f[0] is field 3 (state), so utime (field 14) is f[11] and stime (15) is f[12].
	printf '%s' $((f[11] + f[12]))
}

# machine_busy_ticks: ticks all CPUs spent outside idle and iowait since boot (/proc/stat).
machine_busy_ticks() {
	local _cpu user nice system _idle _iowait irq softirq steal _rest
	read -r _cpu user nice system _idle _iowait irq softirq steal _rest </proc/stat
	printf '%s' $((user + nice + system + irq + softirq + steal))
}

# children_cpu_ms: sets CHILDREN_CPU_MS to the CPU (user+sys) of this shell's reaped children so
# far, in milliseconds. Call it directly, not in $(...): `times` in a fork would see the fork's
# children only. It writes `times` to a file for the same reason.
children_cpu_ms() {
	local tf=$BENCH_TMP/times total=0 part re='^([0-9]+)m([0-9]+)[.,]([0-9]{3})s$'
	times >"$tf"
	local lines=()
	mapfile -t lines <"$tf"
	for part in ${lines[1]}; do
		[[ $part =~ $re ]] || return 1
		total=$((total + BASH_REMATCH[1] * 60000 + 10#${BASH_REMATCH[2]} * 1000 + 10#${BASH_REMATCH[3]}))
	done
	CHILDREN_CPU_MS=$total
}

# now_us: wall clock in microseconds.
now_us() { printf '%s' "${EPOCHREALTIME/[.,]/}"; }

# Children this script started, stopped by bench_cleanup (or stop_child).
declare -A BENCH_CHILDREN=() # pid -> name

# start_child NAME LOG CMD...: start CMD in the background (stdout+stderr to LOG); sets CHILD_PID.
start_child() {
	local name=$1 log=$2
	shift 2
	"$@" </dev/null >"$log" 2>&1 &
	CHILD_PID=$!
	BENCH_CHILDREN[$CHILD_PID]=$name
}

# stop_child PID: SIGTERM, wait up to 5 s, then SIGKILL.
stop_child() {
	local pid=$1 i
	[[ -n ${BENCH_CHILDREN[$pid]+x} ]] || return 0
	if alive "$pid"; then
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < 50; i++)); do
			alive "$pid" || break
			sleep 0.1
		done
		if alive "$pid"; then
			note "${BENCH_CHILDREN[$pid]} (pid $pid) ignored SIGTERM: killing it"
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	wait "$pid" 2>/dev/null || true
	unset "BENCH_CHILDREN[$pid]"
}

bench_cleanup() {
	local pid
	for pid in "${!BENCH_CHILDREN[@]}"; do stop_child "$pid"; done
	if [[ -n ${BENCH_TMP:-} && -d $BENCH_TMP && ${BENCH_KEEP_TMP:-0} != 1 ]]; then rm -rf "$BENCH_TMP"; fi
}

# ---------------------------------------------------------------- network
port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; } # HOST PORT

# wait_port HOST PORT PID NAME LOG: wait up to 15 s until HOST:PORT accepts connections, dying
# with the tail of LOG if the process PID exits first.
wait_port() {
	local host=$1 port=$2 pid=$3 name=$4 log=$5 deadline=$((SECONDS + 15))
	until port_open "$host" "$port"; do
		if ! alive "$pid"; then
			tail -n 20 "$log" >&2 || true
			die "$name exited during start-up (log above: $log)"
		fi
		((SECONDS < deadline)) || { tail -n 20 "$log" >&2 || true; die "$name does not accept connections on $host:$port after 15 s"; }
		sleep 0.05
	done
}

need_free_port() { # HOST PORT WHAT
	if port_open "$1" "$2"; then
		die "$3 port $1:$2 is taken by $(port_owner "$2"); choose another (see --help)"
	fi
}

# ---------------------------------------------------------------- sysbench output
# parse_sysbench LOG: prints "queries qps p95_ms ignored_errors reconnects" (a field is "-" when
# missing, e.g. after a failed run).
parse_sysbench() {
	awk '
		/^[ \t]*queries:/         { q = $2; qps = $3; sub(/^\(/, "", qps) }
		/^[ \t]*ignored errors:/  { ign = $3 }
		/^[ \t]*reconnects:/      { rec = $2 }
		/^[ \t]*95th percentile:/ { p95 = $3 }
		END {
			printf "%s %s %s %s %s\n", (q == "" ? "-" : q), (qps == "" ? "-" : qps), (p95 == "" ? "-" : p95),
				(ign == "" ? "-" : ign), (rec == "" ? "-" : rec)
		}' "$1"
}

# sysbench_tps LOG: transactions per second ("transactions: N (X per sec.)"), "-" when missing.
sysbench_tps() {
	awk '/^[ \t]*transactions:/ { t = $3; sub(/^\(/, "", t) } END { print (t == "" ? "-" : t) }' "$1"
}

# sysbench_refusals LOG: the lines where sysbench reports MySQL error 1235 (ER_NOT_SUPPORTED_YET,
# shardgate's "shardgate does not support ..."), each with the statement sysbench sent.
sysbench_refusals() {
	grep -E 'error 1235[^0-9]|errno = 1235[^0-9]' "$1" || true
}

# sysbench_errors LOG: the error lines sysbench printed (FATAL, ALERT, error ...), deduplicated.
sysbench_errors() {
	grep -E 'FATAL|ALERT|[Ee]rror|failed' "$1" | grep -vE '^[ \t]*ignored errors:' | sort | uniq -c | sort -rn | head -n 5 || true
}

# ---------------------------------------------------------------- statistics
# median: the median of the numbers on stdin ("-" and empty lines ignored); "-" if none.
median() {
	grep -E '^-?[0-9.]+([eE][-+]?[0-9]+)?$' | sort -g | awk '
		{ v[NR] = $1 }
		END {
			if (NR == 0) { print "-"; exit }
			if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2
		}' || true
}

# ratio A B: A/B with 3 decimals, "-" when either is missing or B is 0.
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		num = "^-?[0-9.]+([eE][-+]?[0-9]+)?$"
		if (a !~ num || b !~ num || a !~ /[0-9]/ || b !~ /[0-9]/ || b + 0 == 0) print "-"; else printf "%.3f\n", a / b }'
}

# fmt NUMBER DECIMALS: "-" stays "-".
fmt() {
	awk -v v="$1" -v d="$2" 'BEGIN { if (v !~ /^-?[0-9.]+([eE][-+]?[0-9]+)?$/ || v !~ /[0-9]/) print "-"; else printf("%." d "f\n", v) }'
}

# start_haproxy DIR NAME PORT THREADS BACKEND...: HAProxy as a pure TCP relay on
# 127.0.0.1:PORT to BACKEND (several: round robin, one server a client
# connection; no health checks, no logging), config and log DIR/NAME.cfg and
# DIR/NAME.log, run in the foreground as our child (so its /proc stats are
# its own); sets HAPROXY_PID. Needs HAPROXY (the binary) and BENCH_TMP.
start_haproxy() {
	local dir=$1 name=$2 port=$3 threads=$4 cfg=$1/$2.cfg i=0 b
	shift 4
	{
		cat <<EOF
# Generated by bench/$PROG: a pure TCP relay, no health checks, no logging.
global
    nbthread $threads
    maxconn 4096
defaults
    mode tcp
    timeout connect 5s
    timeout client 1h
    timeout server 1h
listen mysql
    bind 127.0.0.1:$port
    balance roundrobin
EOF
		for b in "$@"; do
			echo "    server db$i $b"
			i=$((i + 1))
		done
	} >"$cfg"
	"$HAPROXY" -c -q -f "$cfg" >"$BENCH_TMP/haproxy-check.log" 2>&1 || { cat "$BENCH_TMP/haproxy-check.log" >&2; die "haproxy rejects $cfg"; }
	start_child haproxy "$dir/$name.log" "$HAPROXY" -db -f "$cfg"
	HAPROXY_PID=$CHILD_PID
	wait_port 127.0.0.1 "$port" "$HAPROXY_PID" "$name" "$dir/$name.log"
}
