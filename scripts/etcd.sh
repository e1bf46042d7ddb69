#!/usr/bin/env bash
# scripts/etcd.sh — a local three-member etcd cluster on 127.0.0.1 for shardgate's cluster mode
# (tests and the demo).
#
# Three etcd processes (Debian's etcd-server, /usr/bin/etcd), each with its own data dir, log and
# pid file under $SG_ETCD_DIR (default /var/tmp/shardgate-etcd):
#
#   name  client URL              peer URL                dir
#   e1    http://127.0.0.1:12379  http://127.0.0.1:12380  $SG_ETCD_DIR/e1/{data,etcd.log,etcd.pid}
#   e2    http://127.0.0.1:12389  http://127.0.0.1:12390  $SG_ETCD_DIR/e2/...
#   e3    http://127.0.0.1:12399  http://127.0.0.1:12400  $SG_ETCD_DIR/e3/...
#
# SG_ETCD_PORT_OFFSET is added to every port. No TLS, no auth. Heartbeat 100ms and election
# timeout 1s, so the survivors elect a new leader about a second after a member goes away.
# Run `scripts/etcd.sh help` for the commands.
set -euo pipefail

PROG=${0##*/}
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ETCD_DIR=${SG_ETCD_DIR:-/var/tmp/shardgate-etcd}
ETCD_DIR=${ETCD_DIR%/}
START_TIMEOUT=${SG_ETCD_START_TIMEOUT:-60} # seconds for members to report healthy
STOP_TIMEOUT=${SG_ETCD_STOP_TIMEOUT:-30}   # seconds for a member to exit on SIGTERM (then SIGKILL)
LOCK_FILE=${ETCD_DIR}.lock                 # beside the directory, so it survives destroy
MARKER=.shardgate-etcd                     # proves a directory is ours before rm -rf

PORT_OFFSET=${SG_ETCD_PORT_OFFSET:-0} # to run a second cluster beside the first (with its own SG_ETCD_DIR)
[[ $PORT_OFFSET =~ ^[0-9]+$ ]] || { echo "${0##*/}: SG_ETCD_PORT_OFFSET must be a number" >&2; exit 2; }

MEMBERS=(1 2 3)
declare -A NAME=() CLIENT_PORT=() PEER_PORT=()
INITIAL_CLUSTER=
for _i in "${MEMBERS[@]}"; do
	NAME[$_i]=e$_i
	CLIENT_PORT[$_i]=$((12379 + 10 * (_i - 1) + PORT_OFFSET))
	PEER_PORT[$_i]=$((12380 + 10 * (_i - 1) + PORT_OFFSET))
	INITIAL_CLUSTER+=${INITIAL_CLUSTER:+,}e$_i=http://127.0.0.1:${PEER_PORT[$_i]}
done
unset _i
# Unique per port set: members of two clusters on one machine never accept each other.
CLUSTER_TOKEN=shardgate-etcd-${CLIENT_PORT[1]}

client_url() { printf 'http://127.0.0.1:%s' "${CLIENT_PORT[$1]}"; }
endpoints() {
	local i out=
	for i in "${MEMBERS[@]}"; do out+=${out:+,}$(client_url "$i"); done
	printf '%s' "$out"
}

usage() {
	cat <<EOF
usage: $PROG COMMAND [N...]

  up           start the members that are not running (running ones are left alone; a new
               cluster is bootstrapped on first start) and wait until all three are healthy;
               one status line per member
  down         stop all members (SIGTERM); data is kept
  destroy      stop all members (SIGKILL) and remove $ETCD_DIR
  status       one line per member: name, running/stopped, client URL (then pid and health);
               exit 0 only if all three run and are healthy
  stop N...    stop member N (SIGTERM), e.g. to take it away in a test; data is kept
  start N...   start member N and wait until it is healthy (if a quorum of 2 runs)
  kill N...    SIGKILL member N (fault tests); \`start N\` or \`up\` brings it back
  endpoints    print the client URLs, comma-separated (for an etcd client's endpoint list)

N: member number 1..3 (or its name e1..e3).
Environment: SG_ETCD_DIR (default /var/tmp/shardgate-etcd), SG_ETCD_PORT_OFFSET (default 0, added
  to every port), SG_ETCD_START_TIMEOUT=$START_TIMEOUT, SG_ETCD_STOP_TIMEOUT=$STOP_TIMEOUT (seconds).
Exit codes: 0 ok, 1 failure (or, for status, not all healthy), 2 usage error.
EOF
}


# member_args N...: sets ARGS to the member numbers (accepts 1..3 and e1..e3).
ARGS=()
member_args() {
	local a
	ARGS=()
	for a in "$@"; do
		a=${a#e}
		[[ $a =~ ^[1-3]$ ]] || usage_error "unknown member '$a' (members: 1 2 3, or e1 e2 e3)"
		[[ " ${ARGS[*]} " == *" $a "* ]] || ARGS+=("$a")
	done
}

member_dir() { printf '%s/%s' "$ETCD_DIR" "${NAME[$1]}"; }
created() { [[ -d $(member_dir "$1")/data/member ]]; }

# ---------------------------------------------------------------- binaries
ETCD=''
need_etcd() {
	[[ -n $ETCD ]] && return 0
	ETCD=$(find_bin etcd) || die "etcd is not installed (Debian: apt-get install etcd-server)"
}

# ---------------------------------------------------------------- processes
# running_pid N: prints the pid of member N's etcd if it is running.
running_pid() {
	local pid d
	d=$(member_dir "$1")
	[[ -r $d/etcd.pid ]] || return 1
	read -r pid <"$d/etcd.pid" 2>/dev/null || return 1
	[[ $pid =~ ^[0-9]+$ ]] && alive "$pid" || return 1
	# Guard against a recycled pid: the process must be etcd with our data dir.
	local -a argv=()
	mapfile -d '' argv <"/proc/$pid/cmdline" 2>/dev/null || return 1
	[[ " ${argv[*]} " == *" --data-dir=$d/data "* ]] || return 1
	printf '%s' "$pid"
}


# http PORT METHOD PATH [BODY]: a plain HTTP/1.0 request to 127.0.0.1:PORT with bash's /dev/tcp
# (no curl or etcdctl needed); prints the response, headers included. Fails if nobody listens.
http() {
	local port=$1 method=$2 path=$3 body=${4:-}
	(
		exec 2>/dev/null
		exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
		printf '%s %s HTTP/1.0\r\nHost: 127.0.0.1:%s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s' \
			"$method" "$path" "$port" "${#body}" "$body" >&3
		resp=
		# EOF (HTTP/1.0: the server closes) or timeout: a member that has not yet joined a cluster with
		# a leader does not answer at all.
		IFS= read -r -t 2 -d '' resp <&3 || true
		printf '%s' "$resp"
	)
}
# healthy N: member N's /health says true (it has a leader and a quorum read succeeds).
healthy() {
	local resp
	resp=$(http "${CLIENT_PORT[$1]}" GET /health) || return 1
	[[ $resp == *'"health":"true"'* ]]
}
# is_leader N: member N reports itself as the leader (v3 JSON gateway, maintenance status).
is_leader() {
	local resp member leader
	resp=$(http "${CLIENT_PORT[$1]}" POST /v3/maintenance/status '{}') || return 1
	[[ $resp =~ \"member_id\":\"([0-9]+)\" ]] || return 1
	member=${BASH_REMATCH[1]}
	[[ $resp =~ \"leader\":\"([0-9]+)\" ]] || return 1
	leader=${BASH_REMATCH[1]}
	[[ $member == "$leader" ]]
}


declare -A LAUNCHED=()
# launch N: start member N's etcd in the background, detached from this shell.
launch() {
	local i=$1 d pid state=()
	d=$(member_dir "$i")
	mkdir -p "$d"
	rm -f "$d/etcd.pid"
	# "new" bootstraps the cluster; with a data dir etcd ignores the --initial-* flags anyway.
	created "$i" || state=(--initial-cluster-state=new)
	local args=(
		--name="${NAME[$i]}"
		--data-dir="$d/data"
		--listen-client-urls="$(client_url "$i")"
		--advertise-client-urls="$(client_url "$i")"
		--listen-peer-urls="http://127.0.0.1:${PEER_PORT[$i]}"
		--initial-advertise-peer-urls="http://127.0.0.1:${PEER_PORT[$i]}"
		--initial-cluster="$INITIAL_CLUSTER"
		--initial-cluster-token="$CLUSTER_TOKEN"
		"${state[@]}"
		--heartbeat-interval=100
		--election-timeout=1000
		--logger=zap
		--log-outputs=stderr
	)
	{
		printf '\n==== %s: %s %s\n' "$(date '+%F %T')" "$PROG" "${NAME[$i]}"
	} >>"$d/etcd.log"
	# New session, no inherited stdio and no other inherited descriptor (our lock, a caller's
	# pipes): a caller waiting for EOF on our output must not wait for etcd. ETCD_* variables of
	# the caller's environment would configure etcd too: drop them.
	(
		cd /
		close_fds
		for v in $(compgen -e -X '!ETCD_*'); do unset "$v"; done
		exec setsid "$ETCD" "${args[@]}" </dev/null >>"$d/etcd.log" 2>&1
	) &
	pid=$!
	disown "$pid" 2>/dev/null || true
	# No job control in a script: the subshell is no process group leader, so setsid does not fork
	# and $! is etcd's pid.
	printf '%s\n' "$pid" >"$d/etcd.pid"
	LAUNCHED[$i]=$pid
}


# wait_healthy N...: wait until each member's /health says true.
wait_healthy() {
	local deadline=$((SECONDS + START_TIMEOUT)) i pending=("$@") still
	while ((${#pending[@]})); do
		still=()
		for i in "${pending[@]}"; do
			healthy "$i" && continue
			if [[ -n ${LAUNCHED[$i]:-} ]]; then
				# Launched here: alive is starting (until its shell has exec'd
				# etcd it does not look like the member).
				if ! alive "${LAUNCHED[$i]}"; then
					print_log_tail "$(member_dir "$i")/etcd.log"
					die "${NAME[$i]}: etcd exited during start-up (see $(member_dir "$i")/etcd.log)"
				fi
			elif ! is_running "$i"; then
				# It ran when we looked (a member left by an earlier run) and
				# has exited since: start it like the others.
				note "${NAME[$i]} exited; starting it again"
				launch "$i"
			fi
			still+=("$i")
		done
		pending=("${still[@]}")
		((${#pending[@]})) || break
		if ((SECONDS >= deadline)); then
			for i in "${pending[@]}"; do print_log_tail "$(member_dir "$i")/etcd.log"; done
			local names=()
			for i in "${pending[@]}"; do names+=("${NAME[$i]}"); done
			die "timed out after ${START_TIMEOUT}s waiting for ${names[*]} to be healthy"
		fi
		sleep 0.1
	done
}

# wait_listening N...: wait until each member accepts connections on its client port.
wait_listening() {
	local deadline=$((SECONDS + START_TIMEOUT)) i
	for i in "$@"; do
		until port_open "${CLIENT_PORT[$i]}"; do
			if [[ -n ${LAUNCHED[$i]:-} ]] && ! alive "${LAUNCHED[$i]}"; then
				print_log_tail "$(member_dir "$i")/etcd.log"
				die "${NAME[$i]}: etcd exited during start-up (see $(member_dir "$i")/etcd.log)"
			fi
			((SECONDS < deadline)) || die "timed out after ${START_TIMEOUT}s waiting for ${NAME[$i]} to listen"
			sleep 0.1
		done
	done
}

# stop_members SIGNAL N...: signal the running members among N and wait until they exit
# (SIGKILL after SG_ETCD_STOP_TIMEOUT). STOPPED: the members that were running.
STOPPED=()
stop_members() {
	local sig=$1 i pid deadline
	shift
	local -A pids=()
	for i in "$@"; do
		pid=$(running_pid "$i") || continue
		kill "-$sig" "$pid" 2>/dev/null || die "${NAME[$i]}: cannot send SIG$sig to pid $pid"
		pids[$i]=$pid
	done
	deadline=$((SECONDS + STOP_TIMEOUT))
	for i in "${!pids[@]}"; do
		while alive "${pids[$i]}"; do
			if ((SECONDS >= deadline)); then
				note "${NAME[$i]} (pid ${pids[$i]}) did not stop within ${STOP_TIMEOUT}s: SIGKILL"
				kill -KILL "${pids[$i]}" 2>/dev/null || true
				deadline=$((SECONDS + 10))
			fi
			sleep 0.05
		done
		rm -f "$(member_dir "$i")/etcd.pid"
	done
	STOPPED=("${!pids[@]}")
}

# start_members N...: launch the members among N that do not run (LAUNCHED: those launched).
start_members() {
	local i p
	for i in "$@"; do
		is_running "$i" && continue
		for p in "${CLIENT_PORT[$i]}" "${PEER_PORT[$i]}"; do
			if port_open "$p"; then
				die "${NAME[$i]}: port $p is already in use by $(port_owner "$p"), not by this cluster ($ETCD_DIR)"
			fi
		done
	done
	for i in "$@"; do
		is_running "$i" || launch "$i"
	done
}

init_etcd_dir() {
	if [[ -d $ETCD_DIR && ! -f $ETCD_DIR/$MARKER ]] && [[ -n "$(ls -A "$ETCD_DIR")" ]]; then
		die "$ETCD_DIR exists, is not empty and is not a shardgate etcd cluster: set SG_ETCD_DIR elsewhere"
	fi
	mkdir -p "$ETCD_DIR"
	touch "$ETCD_DIR/$MARKER"
}


count_running() {
	local i n=0
	for i in "${MEMBERS[@]}"; do is_running "$i" && n=$((n + 1)); done
	printf '%s' "$n"
}

# ---------------------------------------------------------------- summaries
# describe N [NOTE]: one status line; returns 1 if not running or not healthy.
describe() {
	local i=$1 what=${2:+ ($2)} pid extra
	if ! pid=$(running_pid "$i"); then
		created "$i" || what+=" (no data)"
		printf '%-3s %-8s %s%s\n' "${NAME[$i]}" stopped "$(client_url "$i")" "$what"
		return 1
	fi
	extra="pid=$pid"
	local rc=0
	if healthy "$i"; then
		extra+=" healthy"
		is_leader "$i" && extra+=" leader"
	else
		extra+=" unhealthy"
		rc=1
	fi
	printf '%-3s %-8s %s %s%s\n' "${NAME[$i]}" running "$(client_url "$i")" "$extra" "$what"
	return $rc
}

# ---------------------------------------------------------------- commands
cmd_up() {
	(($# == 0)) || usage_error "up takes no arguments (use: $PROG start N)"
	need_etcd
	take_lock
	init_etcd_dir
	local i rc=0
	local -A action=()
	for i in "${MEMBERS[@]}"; do
		if is_running "$i"; then continue; fi
		if created "$i"; then action[$i]=started; else action[$i]=created; fi
	done
	start_members "${MEMBERS[@]}"
	wait_healthy "${MEMBERS[@]}"
	for i in "${MEMBERS[@]}"; do
		describe "$i" "${action[$i]:-}" || rc=1
	done
	return $rc
}

cmd_start() {
	(($#)) || usage_error "start: name at least one member (1 2 3); '$PROG up' starts all"
	member_args "$@"
	local members=("${ARGS[@]}") i rc=0
	need_etcd
	take_lock
	init_etcd_dir
	local -A action=()
	for i in "${members[@]}"; do
		is_running "$i" || action[$i]=started
	done
	start_members "${members[@]}"
	local quorum=1
	if (($(count_running) >= 2)); then
		wait_healthy "${members[@]}"
	else
		# A lone member has no leader, so it is not healthy until a second one starts: not an error.
		quorum=0
		wait_listening "${members[@]}"
		note "only $(count_running) of 3 members run: no quorum (and no health) until another starts ($PROG start N or up)"
	fi
	for i in "${members[@]}"; do
		describe "$i" "${action[$i]:-already running}" || rc=$quorum
	done
	return $rc
}

# stop_cmd SIGNAL VERB N...: stop members, one line each.
stop_cmd() {
	local sig=$1 verb=$2 i
	shift 2
	STOPPED=()
	stop_members "$sig" "$@"
	for i in "$@"; do
		if [[ " ${STOPPED[*]} " == *" $i "* ]]; then say "${NAME[$i]} $verb"; else say "${NAME[$i]} was not running"; fi
	done
}

cmd_stop() {
	(($#)) || usage_error "stop: name at least one member (1 2 3); '$PROG down' stops all"
	member_args "$@"
	[[ -d $ETCD_DIR ]] || { say "nothing to stop: $ETCD_DIR does not exist"; return 0; }
	take_lock
	stop_cmd TERM stopped "${ARGS[@]}"
}

cmd_kill() {
	(($#)) || usage_error "kill: name at least one member (1 2 3)"
	member_args "$@"
	[[ -d $ETCD_DIR ]] || { say "nothing to kill: $ETCD_DIR does not exist"; return 0; }
	# No lock: a fault test may kill while another run waits.
	stop_cmd KILL killed "${ARGS[@]}"
}

cmd_down() {
	(($# == 0)) || usage_error "down takes no arguments (use: $PROG stop N)"
	[[ -d $ETCD_DIR ]] || { say "nothing to stop: $ETCD_DIR does not exist"; return 0; }
	take_lock
	stop_cmd TERM stopped "${MEMBERS[@]}"
}

cmd_destroy() {
	(($# == 0)) || usage_error "destroy takes no arguments (it removes the whole cluster)"
	[[ -e $ETCD_DIR ]] || { say "nothing to destroy: $ETCD_DIR does not exist"; return 0; }
	[[ -f $ETCD_DIR/$MARKER ]] || die "$ETCD_DIR is not a shardgate etcd cluster (no $MARKER): not removing it"
	take_lock
	STOPPED=()
	stop_members KILL "${MEMBERS[@]}"
	rm -rf "$ETCD_DIR"
	say "destroyed $ETCD_DIR"
}

cmd_status() {
	(($# == 0)) || usage_error "status takes no arguments"
	local i rc=0
	for i in "${MEMBERS[@]}"; do describe "$i" || rc=1; done
	return $rc
}

cmd_endpoints() {
	(($# == 0)) || usage_error "endpoints takes no arguments"
	endpoints
	printf '\n'
}

main() {
	(($#)) || { usage >&2; exit 2; }
	local cmd=$1
	shift
	case $cmd in
	up) cmd_up "$@" ;;
	down) cmd_down "$@" ;;
	destroy) cmd_destroy "$@" ;;
	status) cmd_status "$@" ;;
	start) cmd_start "$@" ;;
	stop) cmd_stop "$@" ;;
	kill) cmd_kill "$@" ;;
	endpoints) cmd_endpoints "$@" ;;
	help | -h | --help) usage ;;
	*) usage_error "unknown command '$cmd'" ;;
	esac
}

main "$@"
