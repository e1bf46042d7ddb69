#!/usr/bin/env bash
# bench/point_select.sh — sysbench oltp_point_select against direct MariaDB, an HAProxy TCP
# relay and shardgate, in alternating rounds; prints a table of medians and keeps the raw runs.
# Run with --help for the knobs.
set -euo pipefail

PROG=${0##*/}
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
	cat <<EOF
usage: bench/$PROG [--help]

Measures sysbench oltp_point_select (one primary-key SELECT per event) against
  direct     the MariaDB server itself (default dh0-primary, 127.0.0.1:13306)
  haproxy    HAProxy in TCP mode relaying to that server: the floor cost of one proxy hop
  shardgate  shardgate built from this tree, in front of that server
in ROUNDS alternating rounds (direct, haproxy, shardgate; then the 1-thread pass if asked).
Per run: QPS and p95 latency from sysbench; CPU time (utime+stime from /proc/PID/stat) of the
proxy, of mariadbd and of sysbench over exactly the run, per query. Prints the medians over
the rounds; writes every run to bench/results/point_select-TIMESTAMP/runs.csv, beside the
sysbench logs, the generated configs and the proxies' logs.

Settings (environment variables, defaults in brackets):
  DURATION=$DURATION_DEFAULT    seconds per run
  ROUNDS=$ROUNDS_DEFAULT       rounds
  THREADS=$THREADS_DEFAULT      sysbench threads (client connections)
  THREADS1=       1: also a 1-thread pass in every round (latency without queueing)
  PS=0            0: text protocol (--db-ps-mode=disable, as the reference figures);
                  1: prepared statements (sysbench's default, --db-ps-mode=auto)
  TABLES=$TABLES_DEFAULT TABLE_SIZE=$TABLE_SIZE_DEFAULT
                  sysbench tables; prepared once directly on the server (database DB_NAME),
                  re-used when every table has TABLE_SIZE rows, otherwise dropped and re-made
  PREPARE=1       0: skip the check and preparation (tables made some other way)
  WARMUP=5        seconds of an untimed direct run before the first round (0: none)
  TARGETS="direct haproxy shardgate"
                  which targets to run, in this order within a round ("x direct" needs direct)
  DB_HOST=127.0.0.1 DB_PORT=13306 DB_USER=sg DB_PASSWORD=sg DB_NAME=sbtest
                  the server: direct target, HAProxy's backend, where tables are prepared
  DB_PIDFILE=\$SG_TOPO_DIR/dh0-primary/mysqld.pid
                  pid file of that server, for its CPU per query (informational; may be absent)
  HAPROXY_PORT=3390  HAPROXY_THREADS=1
                  HAProxy listens on 127.0.0.1:HAPROXY_PORT with nbthread HAPROXY_THREADS
  SG_PORT=3391    shardgate listens on 127.0.0.1:SG_PORT (generated config only)
  SG_CONFIG=      a shardgate config file to use as is instead of the generated pass-through
                  one (users sbtest/sbtest, schema sbtest -> DB_NAME on DB_HOST:DB_PORT as
                  DB_USER); its listen address is read from the file. For other topologies.
  SG_USER=sbtest SG_PASSWORD=sbtest SG_DB=sbtest
                  the account and schema sysbench uses through shardgate
  SG_BIN=         a shardgate binary to use instead of building ./cmd/shardgate
  RESULTS_DIR=bench/results

Examples:
  bench/$PROG                                  # the full run, about 4 minutes
  DURATION=3 ROUNDS=1 WARMUP=0 bench/$PROG     # a quick sanity check, ~30 s with a warm build cache
  PS=1 THREADS1=1 bench/$PROG                  # prepared statements, plus 1-thread latency

Output: "x direct" is the median over rounds of QPS / the same round's direct QPS; "proxy
us/q" is the proxy's CPU per query in microseconds, "server" mariadbd's and "client" sysbench's;
"other" is the rest of the machine's busy CPU during the run, in cores: load that is none of
the three (other engineers' work), a measure of the noise. Exit status 1 if any run failed or
sysbench reported errors (their text is printed and kept in the log).
EOF
}

DURATION_DEFAULT=20 ROUNDS_DEFAULT=3 THREADS_DEFAULT=8 TABLES_DEFAULT=4 TABLE_SIZE_DEFAULT=100000
for arg in "$@"; do
	case $arg in
	-h | --help | help) usage; exit 0 ;;
	*) usage_error "unknown argument '$arg'" ;;
	esac
done

DURATION=${DURATION:-$DURATION_DEFAULT}
ROUNDS=${ROUNDS:-$ROUNDS_DEFAULT}
THREADS=${THREADS:-$THREADS_DEFAULT}
THREADS1=${THREADS1:-}
PS=${PS:-0}
TABLES=${TABLES:-$TABLES_DEFAULT}
TABLE_SIZE=${TABLE_SIZE:-$TABLE_SIZE_DEFAULT}
PREPARE=${PREPARE:-1}
WARMUP=${WARMUP:-5}
TARGETS=${TARGETS:-direct haproxy shardgate}
DB_HOST=${DB_HOST:-127.0.0.1}
DB_PORT=${DB_PORT:-13306}
DB_USER=${DB_USER:-sg}
DB_PASSWORD=${DB_PASSWORD:-sg}
DB_NAME=${DB_NAME:-sbtest}
TOPO_DIR=${SG_TOPO_DIR:-/var/tmp/shardgate-topology}
DB_PIDFILE=${DB_PIDFILE:-$TOPO_DIR/dh0-primary/mysqld.pid}
HAPROXY_PORT=${HAPROXY_PORT:-3390}
HAPROXY_THREADS=${HAPROXY_THREADS:-1}
SG_PORT=${SG_PORT:-3391}
SG_CONFIG=${SG_CONFIG:-}
SG_USER=${SG_USER:-sbtest}
SG_PASSWORD=${SG_PASSWORD:-sbtest}
SG_DB=${SG_DB:-sbtest}
SG_BIN=${SG_BIN:-}
RESULTS_DIR=${RESULTS_DIR:-$BENCH_DIR/results}

for v in DURATION ROUNDS THREADS TABLES TABLE_SIZE HAPROXY_THREADS; do need_pos "$v"; done
for v in WARMUP DB_PORT HAPROXY_PORT SG_PORT; do need_uint "$v"; done
[[ $PS == [01] ]] || usage_error "PS must be 0 or 1, got '$PS'"
[[ $PREPARE == [01] ]] || usage_error "PREPARE must be 0 or 1, got '$PREPARE'"
[[ -z $THREADS1 || $THREADS1 == [01] ]] || usage_error "THREADS1 must be 1 (or empty/0), got '$THREADS1'"
[[ $DB_NAME =~ ^[A-Za-z0-9_]+$ ]] || usage_error "DB_NAME must be a plain identifier, got '$DB_NAME'"
read -r -a TARGET_LIST <<<"$TARGETS"
((${#TARGET_LIST[@]})) || usage_error "TARGETS is empty"
declare -A WANT=()
for t in "${TARGET_LIST[@]}"; do
	[[ $t == direct || $t == haproxy || $t == shardgate ]] || usage_error "unknown target '$t' in TARGETS (direct, haproxy, shardgate)"
	WANT[$t]=1
done
if [[ -n $SG_CONFIG ]]; then
	[[ -r $SG_CONFIG ]] || usage_error "SG_CONFIG: cannot read '$SG_CONFIG'"
	SG_CONFIG=$(cd "$(dirname "$SG_CONFIG")" && pwd)/$(basename "$SG_CONFIG")
fi
if [[ -n $SG_BIN ]]; then
	[[ -x $SG_BIN ]] || usage_error "SG_BIN: '$SG_BIN' is not an executable file"
fi
SG_HOST=127.0.0.1
if [[ -n $SG_CONFIG ]]; then # connect where the file says shardgate listens
	listen=$(sed -nE 's/^listen:[[:space:]]*["'\'']?([^"'\''#[:space:]]+).*/\1/p' "$SG_CONFIG" | head -n 1)
	listen=${listen:-127.0.0.1:3307}
	SG_HOST=${listen%:*} SG_PORT=${listen##*:}
	[[ -z $SG_HOST || $SG_HOST == 0.0.0.0 || $SG_HOST == "[::]" ]] && SG_HOST=127.0.0.1
	[[ $SG_PORT =~ ^[0-9]+$ ]] || usage_error "SG_CONFIG: cannot read a host:port from its listen key ('$listen')"
fi
if [[ -n ${WANT[haproxy]:-} ]]; then need_free_port 127.0.0.1 "$HAPROXY_PORT" HAProxy; fi
if [[ -n ${WANT[shardgate]:-} ]]; then need_free_port "$SG_HOST" "$SG_PORT" shardgate; fi
PASS_THREADS=("$THREADS")
if [[ $THREADS1 == 1 && $THREADS != 1 ]]; then PASS_THREADS+=(1); fi
if ((PS)); then PS_MODE=auto; else PS_MODE=disable; fi

BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/sg-bench.XXXXXX")
trap bench_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ensure_packages sysbench:sysbench haproxy:haproxy mariadb:mariadb-client
SYSBENCH=$(find_bin sysbench)
HAPROXY=$(find_bin haproxy)
MARIADB=$(find_bin mariadb)

# sql SQL: run SQL on the server as DB_USER; batch output without column names.
sql() {
	MYSQL_PWD=$DB_PASSWORD "$MARIADB" --no-defaults --protocol=tcp -h"$DB_HOST" -P"$DB_PORT" -u"$DB_USER" \
		--connect-timeout=5 -N -B -e "$1"
}

# ---------------------------------------------------------------- the server and its tables
if ! err=$(sql "SELECT 1" 2>&1 >/dev/null); then
	if [[ $DB_HOST == 127.0.0.1 && $DB_PORT == 13306 && -x $REPO_DIR/scripts/topology.sh && $err != *"Access denied"* ]]; then
		note "no server on $DB_HOST:$DB_PORT ($err): starting the topology (scripts/topology.sh up)"
		"$REPO_DIR/scripts/topology.sh" up >&2 || die "scripts/topology.sh up failed"
		err=$(sql "SELECT 1" 2>&1 >/dev/null) || die "still cannot query $DB_HOST:$DB_PORT as $DB_USER: $err"
	else
		die "cannot query $DB_HOST:$DB_PORT as $DB_USER: $err"
	fi
fi
SERVER_VERSION=$(sql "SELECT VERSION()")

SB_COMMON=(oltp_point_select --db-driver=mysql --tables="$TABLES" --table-size="$TABLE_SIZE")
sb_direct() { # sysbench arguments to reach the server directly
	printf '%s\n' --mysql-host="$DB_HOST" --mysql-port="$DB_PORT" --mysql-user="$DB_USER" \
		--mysql-password="$DB_PASSWORD" --mysql-db="$DB_NAME"
}

tables_ok() { # every sysbench table exists with TABLE_SIZE rows
	local q="SELECT CONCAT_WS(' '" i counts c
	for ((i = 1; i <= TABLES; i++)); do q+=", (SELECT COUNT(*) FROM \`$DB_NAME\`.sbtest$i)"; done
	counts=$(sql "$q)" 2>/dev/null) || return 1
	for c in $counts; do [[ $c == "$TABLE_SIZE" ]] || return 1; done
}

if ((PREPARE)); then
	if tables_ok; then
		note "re-using $DB_NAME.sbtest1..$TABLES ($TABLE_SIZE rows each) on $DB_HOST:$DB_PORT"
	else
		note "preparing $DB_NAME.sbtest1..$TABLES with $TABLE_SIZE rows each on $DB_HOST:$DB_PORT"
		sql "CREATE DATABASE IF NOT EXISTS \`$DB_NAME\`" || die "cannot create database $DB_NAME"
		mapfile -t direct_args < <(sb_direct)
		log=$BENCH_TMP/prepare.log
		if ! "$SYSBENCH" "${SB_COMMON[@]}" "${direct_args[@]}" cleanup >"$log" 2>&1 ||
			! "$SYSBENCH" "${SB_COMMON[@]}" "${direct_args[@]}" --threads=2 prepare >>"$log" 2>&1; then
			tail -n 20 "$log" >&2
			die "sysbench prepare failed"
		fi
		tables_ok || die "after sysbench prepare, $DB_NAME.sbtest1..$TABLES still do not have $TABLE_SIZE rows each"
	fi
fi

# ---------------------------------------------------------------- results
STAMP=$(date +%Y%m%d-%H%M%S)
RUN_DIR=$RESULTS_DIR/point_select-$STAMP
mkdir -p "$RUN_DIR/logs" || die "cannot create $RUN_DIR"
CSV=$RUN_DIR/runs.csv
echo "round,threads,ps_mode,target,status,duration_s,wall_s,queries,qps,p95_ms,errors,reconnects,proxy_cpu_s,proxy_us_per_q,server_cpu_s,server_us_per_q,client_cpu_s,client_us_per_q,machine_cpu_s,other_cores,log" >"$CSV"

# ---------------------------------------------------------------- haproxy
HAPROXY_PID=
if [[ -n ${WANT[haproxy]:-} ]]; then
	start_haproxy "$RUN_DIR" haproxy "$HAPROXY_PORT" "$HAPROXY_THREADS" "$DB_HOST:$DB_PORT"
fi

# ---------------------------------------------------------------- shardgate
SG_PID='' SG_REV=-
if [[ -n ${WANT[shardgate]:-} ]]; then
	SG_REV=$(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo unknown)
	if [[ -n $(git -C "$REPO_DIR" status --porcelain -- . ':!bench' 2>/dev/null | head -n 1) ]]; then SG_REV+="+dirty"; fi
	if [[ -z $SG_BIN ]]; then
		SG_BIN=$BENCH_TMP/shardgate
		note "building shardgate ($SG_REV)"
		(cd "$REPO_DIR" && go build -o "$SG_BIN" ./cmd/shardgate) >"$BENCH_TMP/build.log" 2>&1 ||
			{ cat "$BENCH_TMP/build.log" >&2; die "go build ./cmd/shardgate failed (set SG_BIN to use a prebuilt binary)"; }
	fi
	if [[ -n $SG_CONFIG ]]; then
		cfg=$SG_CONFIG
		cp "$cfg" "$RUN_DIR/shardgate.yaml"
	else
		cfg=$RUN_DIR/shardgate.yaml
		cat >"$cfg" <<EOF
# Generated by bench/$PROG: pass-through of schema $SG_DB to $DB_NAME on $DB_HOST:$DB_PORT.
listen: 127.0.0.1:$SG_PORT
log: {level: info}
users:
  - {name: $SG_USER, password: $SG_PASSWORD, schemas: [$SG_DB]}
data_hosts:
  - name: dh0
    user: $DB_USER
    password: $DB_PASSWORD
    primary: $DB_HOST:$DB_PORT
data_nodes:
  - {name: sb0, host: dh0, database: $DB_NAME}
schemas:
  - {name: $SG_DB, default_node: sb0}
EOF
	fi
	"$SG_BIN" check-config "$cfg" >"$BENCH_TMP/check.log" 2>&1 || { cat "$BENCH_TMP/check.log" >&2; die "shardgate rejects $cfg"; }
	start_child shardgate "$RUN_DIR/shardgate.log" "$SG_BIN" --config "$cfg" --shutdown-timeout=2s
	SG_PID=$CHILD_PID
	wait_port "$SG_HOST" "$SG_PORT" "$SG_PID" shardgate "$RUN_DIR/shardgate.log"
	# A smoke query through the proxy, so that a broken proxy fails here with its message.
	if ! out=$(MYSQL_PWD=$SG_PASSWORD "$MARIADB" --no-defaults --protocol=tcp -h"$SG_HOST" -P"$SG_PORT" -u"$SG_USER" \
		--connect-timeout=5 -N -B "$SG_DB" -e "SELECT c FROM sbtest1 WHERE id=1" 2>&1); then
		note "warning: smoke query through shardgate failed: $out"
	fi
fi

{
	echo "date:           $(date -Is)"
	echo "host:           $(hostname) nproc=$(nproc) loadavg=$(cut -d' ' -f1-3 /proc/loadavg)"
	echo "sysbench:       $("$SYSBENCH" --version)"
	echo "haproxy:        $("$HAPROXY" -v 2>/dev/null | head -n 1) nbthread=$HAPROXY_THREADS"
	echo "server:         $SERVER_VERSION at $DB_HOST:$DB_PORT"
	echo "shardgate:      $SG_REV ${SG_BIN:+($SG_BIN)} config=${SG_CONFIG:-generated pass-through}"
	echo "settings:       DURATION=$DURATION ROUNDS=$ROUNDS THREADS=$THREADS THREADS1=$THREADS1 PS=$PS ps_mode=$PS_MODE TABLES=$TABLES TABLE_SIZE=$TABLE_SIZE WARMUP=$WARMUP TARGETS=\"$TARGETS\""
} >"$RUN_DIR/meta.txt"

# ---------------------------------------------------------------- runs
server_pid() {
	local pid
	[[ -r $DB_PIDFILE ]] && read -r pid <"$DB_PIDFILE" 2>/dev/null && [[ $pid =~ ^[0-9]+$ ]] && alive "$pid" && printf '%s' "$pid"
}
ps_args=()
((PS)) || ps_args=(--db-ps-mode=disable)
FAILED=0

# run_one ROUND THREADS TARGET: one sysbench run, one CSV line, one progress line.
run_one() {
	local round=$1 threads=$2 target=$3 host port user pass db ppid='' spid name
	case $target in
	direct) host=$DB_HOST port=$DB_PORT user=$DB_USER pass=$DB_PASSWORD db=$DB_NAME ;;
	haproxy) host=127.0.0.1 port=$HAPROXY_PORT user=$DB_USER pass=$DB_PASSWORD db=$DB_NAME ppid=$HAPROXY_PID ;;
	shardgate) host=$SG_HOST port=$SG_PORT user=$SG_USER pass=$SG_PASSWORD db=$SG_DB ppid=$SG_PID ;;
	esac
	if [[ -n $ppid ]] && ! alive "$ppid"; then
		tail -n 30 "$RUN_DIR/$target.log" >&2 || true
		die "$target (pid $ppid) is no longer running (log above: $RUN_DIR/$target.log)"
	fi
	name=r$round-t$threads-$target
	local log=$RUN_DIR/logs/$name.log
	spid=$(server_pid || true)

	local t0 c0 p0=0 s0=0 m0 t1 c1 p1=0 s1=0 m1 rc=0
	m0=$(machine_busy_ticks)
	[[ -z $ppid ]] || p0=$(proc_ticks "$ppid")
	[[ -z $spid ]] || s0=$(proc_ticks "$spid" || echo 0)
	children_cpu_ms
	c0=$CHILDREN_CPU_MS
	t0=$(now_us)
	timeout --foreground -k 5 $((DURATION + 60)) "$SYSBENCH" "${SB_COMMON[@]}" --mysql-host="$host" --mysql-port="$port" \
		--mysql-user="$user" --mysql-password="$pass" --mysql-db="$db" --threads="$threads" --time="$DURATION" \
		--forced-shutdown=15 --report-interval=0 --percentile=95 "${ps_args[@]}" run >"$log" 2>&1 || rc=$?
	# Interrupted (Ctrl-C reaches sysbench, and timeout passes on its status): stop here.
	case $rc in 130) exit 130 ;; 143) exit 143 ;; esac
	t1=$(now_us)
	children_cpu_ms
	c1=$CHILDREN_CPU_MS
	[[ -z $ppid ]] || p1=$(proc_ticks "$ppid" || echo "$p0")
	[[ -z $spid ]] || s1=$(proc_ticks "$spid" || echo "$s0")
	m1=$(machine_busy_ticks)

	local queries qps p95 ign rec errors status
	read -r queries qps p95 ign rec < <(parse_sysbench "$log")
	errors=$(grep -cE '^FATAL|^ALERT' "$log" || true)
	[[ $ign == - ]] || errors=$((errors + ign))
	if ((rc != 0)) || [[ $qps == - ]]; then status=failed; elif ((errors > 0)); then status=errors; else status=ok; fi

	# CPU seconds and microseconds per query.
	local line
	line=$(awk -v q="$queries" -v hz="$CLK_TCK" -v wall=$((t1 - t0)) -v p=$((p1 - p0)) -v s=$((s1 - s0)) \
		-v c=$((c1 - c0)) -v m=$((m1 - m0)) -v hasp="${ppid:+1}" -v hass="${spid:+1}" 'BEGIN {
		wall /= 1e6; pc = p / hz; sc = s / hz; cc = c / 1000; mc = m / hz
		per = (q ~ /^[0-9]+$/ && q > 0)
		printf "%.3f,%s,%s,%s,%s,%s,%s,%.2f,%.2f\n", wall,
			hasp ? sprintf("%.2f", pc) : "", (hasp && per) ? sprintf("%.2f", pc * 1e6 / q) : "",
			hass ? sprintf("%.2f", sc) : "", (hass && per) ? sprintf("%.2f", sc * 1e6 / q) : "",
			sprintf("%.2f", cc), per ? sprintf("%.2f", cc * 1e6 / q) : "",
			mc, (mc - pc - sc - cc) / wall }')
	local wall proxy_s proxy_us server_s server_us client_s client_us machine_s other
	IFS=, read -r wall proxy_s proxy_us server_s server_us client_s client_us machine_s other <<<"$line"
	[[ $queries == - ]] && queries=
	[[ $qps == - ]] && qps=
	[[ $p95 == - ]] && p95=
	[[ $rec == - ]] && rec=
	echo "$round,$threads,$PS_MODE,$target,$status,$DURATION,$wall,$queries,$qps,$p95,$errors,$rec,$proxy_s,$proxy_us,$server_s,$server_us,$client_s,$client_us,$machine_s,$other,logs/$name.log" >>"$CSV"

	printf '  round %d/%d  %2d thr  %-9s  %9s qps  p95 %6s ms  proxy %6s us/q  server %6s us/q  other %5s cores  %s\n' \
		"$round" "$ROUNDS" "$threads" "$target" "${qps:--}" "${p95:--}" "${proxy_us:--}" "${server_us:--}" "$other" "$status" >&2
	if [[ $status != ok ]]; then
		FAILED=1
		note "$target run $name: sysbench exit status $rc, $errors error(s); first error lines:"
		sysbench_errors "$log" | sed 's/^/    /' >&2
		[[ -n $ppid ]] && { note "last lines of the $target log:"; tail -n 10 "$RUN_DIR/$target.log" | sed 's/^/    /' >&2; }
	fi
	return 0
}

if ((WARMUP > 0)); then
	note "warm-up: ${WARMUP}s direct at $THREADS threads (not recorded)"
	mapfile -t direct_args < <(sb_direct)
	timeout --foreground -k 5 $((WARMUP + 60)) "$SYSBENCH" "${SB_COMMON[@]}" "${direct_args[@]}" --threads="$THREADS" \
		--time="$WARMUP" "${ps_args[@]}" run >"$RUN_DIR/logs/warmup.log" 2>&1 ||
		{
			rc=$?
			case $rc in 130) exit 130 ;; 143) exit 143 ;; esac
			tail -n 20 "$RUN_DIR/logs/warmup.log" >&2
			die "the direct warm-up run failed (log above)"
		}
fi

note "results: $RUN_DIR"
for ((round = 1; round <= ROUNDS; round++)); do
	for threads in "${PASS_THREADS[@]}"; do
		for target in "${TARGET_LIST[@]}"; do run_one "$round" "$threads" "$target"; done
	done
done

# ---------------------------------------------------------------- summary
col() { # CSV column number by name
	head -n 1 "$CSV" | tr ',' '\n' | grep -nx "$1" | cut -d: -f1
}
# values THREADS TARGET COLUMN: that column of the matching ok runs, one a line.
values() {
	awk -F, -v t="$1" -v g="$2" -v c="$(col "$3")" 'NR > 1 && $2 == t && $4 == g && $5 != "failed" { print $c }' "$CSV"
}
# ratios THREADS TARGET: per round, QPS / direct QPS of that round.
ratios() {
	awk -F, -v t="$1" -v g="$2" 'NR > 1 && $2 == t && $5 != "failed" {
		if ($4 == "direct") d[$1] = $9; if ($4 == g) q[$1] = $9 }
		END { for (r in q) if ((r in d) && d[r] > 0) print q[r] / d[r] }' "$CSV"
}
summary() {
	local threads target qps
	printf 'sysbench oltp_point_select, %s statements, %ss runs, medians of %s round(s); %s\n' \
		"$([[ $PS_MODE == disable ]] && echo text-protocol || echo prepared)" "$DURATION" "$ROUNDS" "$(cut -d' ' -f1-3 /proc/loadavg | sed 's/^/loadavg /')"
	printf 'server %s:%s (%s); haproxy nbthread=%s; shardgate %s, %s\n' "$DB_HOST" "$DB_PORT" "$SERVER_VERSION" \
		"$HAPROXY_THREADS" "$SG_REV" "${SG_CONFIG:-generated pass-through config}"
	for threads in "${PASS_THREADS[@]}"; do
		printf '\n%-3s %-10s %9s %9s %11s %8s %12s %12s %7s %5s\n' thr target QPS "x direct" "proxy us/q" "p95 ms" \
			"server us/q" "client us/q" other errors
		for target in "${TARGET_LIST[@]}"; do
			qps=$(values "$threads" "$target" qps | median)
			local err
			err=$(awk -F, -v t="$threads" -v g="$target" 'NR > 1 && $2 == t && $4 == g { e += $11; if ($5 == "failed") f++ }
				END { printf "%d%s", e, f ? "+" f "F" : "" }' "$CSV")
			printf '%-3s %-10s %9s %9s %11s %8s %12s %12s %7s %5s\n' "$threads" "$target" \
				"$(fmt "$qps" 0)" \
				"$(if [[ $target == direct ]]; then echo 1.000; else fmt "$(ratios "$threads" "$target" | median)" 3; fi)" \
				"$(fmt "$(values "$threads" "$target" proxy_us_per_q | median)" 1)" \
				"$(fmt "$(values "$threads" "$target" p95_ms | median)" 2)" \
				"$(fmt "$(values "$threads" "$target" server_us_per_q | median)" 1)" \
				"$(fmt "$(values "$threads" "$target" client_us_per_q | median)" 1)" \
				"$(fmt "$(values "$threads" "$target" other_cores | median)" 2)" \
				"$err"
		done
	done
	printf '\nx direct: median of per-round QPS ratios; us/q: CPU microseconds per query; other: busy cores\n'
	printf 'outside proxy, server and sysbench (noise); errors: sysbench errors (+nF: failed runs).\n'
	printf 'raw runs: %s\n' "$CSV"
}
summary | tee "$RUN_DIR/summary.txt"

if ((FAILED)); then
	note "some runs failed or reported errors: see the lines above and $RUN_DIR/logs/"
	exit 1
fi
