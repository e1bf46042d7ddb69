#!/usr/bin/env bash
# scripts/demo.sh — the one-command demo of shardgate.
#
#   scripts/demo.sh              start (or restart) the demo:
#                                  1. install the mariadb client if it is missing (apt-get)
#                                  2. start the local MariaDB topology (scripts/topology.sh up)
#                                  3. build shardgate and check examples/shardgate.yaml
#                                  4. start shardgate with that config in the background
#                                  5. load examples/demo/shop.sql through the proxy
#                                  6. run a few queries through the proxy and show where the
#                                     physical tables landed on the backends
#                                  7. print how to connect
#   scripts/demo.sh stop         stop the demo's shardgate (the topology keeps running)
#   scripts/demo.sh stop --all   also stop the topology (scripts/topology.sh down; data is kept)
#
# Re-running is safe: a shardgate left by an earlier run is restarted and the sample tables are
# dropped and recreated. State (binary, pid file, log) lives in $SG_DEMO_DIR, default
# /var/tmp/shardgate-demo. The topology lives where scripts/topology.sh puts it (SG_TOPO_DIR).
set -euo pipefail

PROG=${0##*/}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
TOPO=$REPO/scripts/topology.sh
CONFIG=$REPO/examples/shardgate.yaml
DATA=$REPO/examples/demo/shop.sql
STATE_DIR=${SG_DEMO_DIR:-/var/tmp/shardgate-demo}
STATE_DIR=${STATE_DIR%/}
BIN=$STATE_DIR/shardgate
PID_FILE=$STATE_DIR/shardgate.pid
LOG_FILE=$STATE_DIR/shardgate.log
START_TIMEOUT=${SG_DEMO_START_TIMEOUT:-60} # seconds for shardgate to open its port
STOP_TIMEOUT=${SG_DEMO_STOP_TIMEOUT:-40}   # seconds for shardgate to exit after SIGTERM
# How to name the scripts in what we print: as the user called us (scripts/demo.sh from the
# repository), otherwise by absolute path.
SELF=$0
[[ $SELF == */* ]] || SELF=$HERE/$PROG
TOPO_SHOWN=${SELF%/*}/topology.sh

# A non-login shell (cron, sudo, an IDE) may lack Go's and the sbin directories.
for d in /usr/local/go/bin /usr/local/sbin /usr/sbin /sbin; do
	[[ -d $d && ":$PATH:" != *":$d:"* ]] && PATH=$PATH:$d
done
export PATH
# go needs a home for its caches; some non-login environments have none.
if [[ -z ${HOME:-} ]]; then
	HOME=$(getent passwd "$(id -un)" | cut -d: -f6)
	export HOME
fi

usage() {
	cat <<EOF
usage: $PROG [up]          start (or restart) the demo: topology, shardgate, sample data
       $PROG stop [--all]  stop the demo's shardgate; --all also stops the MariaDB topology
Environment: SG_DEMO_DIR (default /var/tmp/shardgate-demo) holds the binary, pid file and log;
  SG_TOPO_DIR is passed on to scripts/topology.sh.
EOF
}

step() { printf '\n==> %s\n' "$*"; }
note() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 1; }

# ---------------------------------------------------------------- config
# yaml_addr KEY DEFAULT: a top-level "KEY: host:port" of the example config.
yaml_addr() {
	local v
	v=$(sed -nE "s/^$1:[[:space:]]*\"?([^\"#[:space:]]+)\"?.*/\1/p" "$CONFIG" | head -n 1)
	printf '%s' "${v:-$2}"
}
LISTEN=$(yaml_addr listen 127.0.0.1:3307)
ADMIN=$(yaml_addr admin '')
HOST=${LISTEN%:*}
PORT=${LISTEN##*:}
[[ $HOST == 0.0.0.0 || -z $HOST ]] && HOST=127.0.0.1

# ---------------------------------------------------------------- processes
alive() { # pid -> exists and is not a zombie
	local stat
	[[ -r /proc/$1/stat ]] || return 1
	read -r stat <"/proc/$1/stat" 2>/dev/null || return 1
	stat=${stat##*) }
	[[ ${stat%% *} != [ZX] ]]
}
is_ours() { # pid -> the process runs this demo's binary
	local argv=()
	alive "$1" || return 1
	mapfile -d '' argv <"/proc/$1/cmdline" 2>/dev/null || return 1
	[[ ${argv[0]:-} == "$BIN" ]]
}
# demo_pids: the running shardgate processes of this demo (pid file first, then a scan, in case
# the pid file was lost).
demo_pids() {
	local pid p argv
	if [[ -r $PID_FILE ]] && read -r pid <"$PID_FILE" 2>/dev/null && [[ $pid =~ ^[0-9]+$ ]] && is_ours "$pid"; then
		printf '%s\n' "$pid"
	fi
	for p in /proc/[0-9]*; do
		p=${p#/proc/}
		[[ $p == "${pid:-}" ]] && continue
		is_ours "$p" 2>/dev/null && printf '%s\n' "$p"
	done
	return 0
}
port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }
port_owner() { # port -> "name (pid N)" of the listener, or "another process"
	local o=
	if command -v ss >/dev/null; then
		o=$(ss -ltnpH "sport = :$1" 2>/dev/null | sed -nE 's/.*users:\(\("([^"]*)",pid=([0-9]+).*/\1 (pid \2)/p' | head -n 1)
	fi
	printf '%s' "${o:-another process}"
}
port_pid() { # port -> pid of the listener, if ss can tell
	command -v ss >/dev/null || return 1
	ss -ltnpH "sport = :$1" 2>/dev/null | sed -nE 's/.*users:\(\("[^"]*",pid=([0-9]+).*/\1/p' | head -n 1
}

stop_shardgate() {
	local pids pid deadline stopped=0
	mapfile -t pids < <(demo_pids)
	for pid in "${pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null || continue
		deadline=$((SECONDS + STOP_TIMEOUT))
		while alive "$pid"; do
			if ((SECONDS >= deadline)); then
				note "shardgate (pid $pid) did not stop within ${STOP_TIMEOUT}s: killing it"
				kill -KILL "$pid" 2>/dev/null || true
			fi
			sleep 0.1
		done
		echo "stopped shardgate (pid $pid)"
		stopped=1
	done
	rm -f "$PID_FILE"
	((stopped)) || echo "shardgate of the demo was not running"
}

# ---------------------------------------------------------------- prerequisites
as_root() {
	if ((EUID == 0)); then
		"$@"
	else
		command -v sudo >/dev/null || die "'$*' needs root and sudo is not available: run it as root"
		sudo "$@"
	fi
}
ensure_client() {
	command -v mariadb >/dev/null && return 0
	command -v apt-get >/dev/null || die "the mariadb client is missing and apt-get is not available: install MariaDB's client"
	step "installing mariadb-client (apt-get)"
	local log apt=(env DEBIAN_FRONTEND=noninteractive apt-get -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
	log=$(mktemp /tmp/shardgate-demo-apt.XXXXXX)
	if ! as_root "${apt[@]}" install mariadb-client >"$log" 2>&1; then
		# A fresh machine has no package lists yet.
		if ! { as_root "${apt[@]}" update >>"$log" 2>&1 && as_root "${apt[@]}" install mariadb-client >>"$log" 2>&1; }; then
			tail -n 20 "$log" >&2
			die "apt-get install mariadb-client failed (log: $log)"
		fi
	fi
	rm -f "$log"
	command -v mariadb >/dev/null || die "mariadb-client is installed but 'mariadb' is still not on PATH"
}
ensure_go() {
	command -v go >/dev/null && return 0
	die "Go is not installed (looked in PATH and /usr/local/go/bin): install it from https://go.dev/dl/ into /usr/local/go"
}

# ---------------------------------------------------------------- the proxy's client
# sg [CLIENT-OPTION...]: the mariadb client as user app on the proxy's schema shop.
sg() { mariadb --no-defaults --connect-timeout=10 -h"$HOST" -P"$PORT" -uapp -papp "$@" shop; }
# show SQL: print the statement, then run it through the proxy as a table.
show() {
	printf '\nshop> %s;\n' "$1"
	if ! sg -t -e "$1"; then
		FAILED+=("$1")
	fi
}
FAILED=()

# ---------------------------------------------------------------- commands
cmd_up() {
	[[ -f $CONFIG ]] || die "$CONFIG not found"
	[[ -f $DATA ]] || die "$DATA not found"
	if [[ -n ${SG_TOPO_PORT_OFFSET:-} && ${SG_TOPO_PORT_OFFSET} != 0 ]]; then
		die "SG_TOPO_PORT_OFFSET=$SG_TOPO_PORT_OFFSET: the demo config expects the topology on its default ports; unset it"
	fi
	# Fail early, before installing or building anything, if the client port is taken by
	# something that is not this demo's shardgate.
	local ours=() lp
	mapfile -t ours < <(demo_pids)
	if port_open "$HOST" "$PORT"; then
		lp=$(port_pid "$PORT" || true)
		if ((${#ours[@]} == 0)) || [[ -n $lp && " ${ours[*]} " != *" $lp "* ]]; then
			die "port $PORT ($LISTEN, the 'listen' address of $CONFIG) is already in use by $(port_owner "$PORT"), not by this demo's shardgate: stop it or free the port, then run $PROG again"
		fi
	fi

	ensure_go
	ensure_client
	mkdir -p "$STATE_DIR"

	step "starting the MariaDB topology (scripts/topology.sh up)"
	"$TOPO" up

	step "building shardgate"
	(cd "$REPO" && go build -o "$BIN.new" ./cmd/shardgate) || die "go build failed"
	mv -f "$BIN.new" "$BIN" # a rename: a running old binary is not overwritten in place
	echo "built $BIN ($(go version | awk '{print $3}'))"

	step "checking the config (shardgate check-config examples/shardgate.yaml)"
	(cd "$REPO" && "$BIN" check-config examples/shardgate.yaml) || die "the example config does not check out"

	if ((${#ours[@]})); then
		step "restarting shardgate (left running by an earlier demo run)"
		stop_shardgate
	else
		step "starting shardgate"
	fi
	if port_open "$HOST" "$PORT"; then
		die "port $PORT is already in use by $(port_owner "$PORT"): stop it or free the port, then run $PROG again"
	fi
	[[ -f $LOG_FILE ]] && mv -f "$LOG_FILE" "$LOG_FILE.prev"
	# The demo's physical databases start empty: the test suite fills the same ones with
	# tables of its own, which SHOW TABLES would list.
	"$TOPO" sql dh0-primary -e "DROP DATABASE IF EXISTS shop_0; CREATE DATABASE shop_0" ||
		die "could not reset shop_0 on dh0-primary"
	"$TOPO" sql dh1-primary -e "DROP DATABASE IF EXISTS shop_1; CREATE DATABASE shop_1" ||
		die "could not reset shop_1 on dh1-primary"
	# New session, no inherited stdio or descriptors: it outlives this script and a caller
	# reading our output does not wait for it.
	(
		cd "$REPO"
		for f in /proc/self/fd/*; do
			f=${f##*/}
			if ((f > 2)); then eval "exec $f>&-" 2>/dev/null || true; fi
		done
		exec setsid "$BIN" --config "$CONFIG" </dev/null >"$LOG_FILE" 2>&1
	) &
	local pid=$!
	disown "$pid" 2>/dev/null || true
	echo "$pid" >"$PID_FILE"
	local deadline=$((SECONDS + START_TIMEOUT))
	until port_open "$HOST" "$PORT"; do
		if ! alive "$pid"; then
			tail -n 20 "$LOG_FILE" | sed 's/^/    /' >&2
			rm -f "$PID_FILE"
			die "shardgate exited during start-up (log: $LOG_FILE)"
		fi
		if ((SECONDS >= deadline)); then
			tail -n 20 "$LOG_FILE" | sed 's/^/    /' >&2
			die "shardgate (pid $pid) did not open $LISTEN within ${START_TIMEOUT}s (log: $LOG_FILE)"
		fi
		sleep 0.1
	done
	# The port might still be someone else's if they bound it in the meantime.
	lp=$(port_pid "$PORT" || true)
	[[ -z $lp || $lp == "$pid" ]] || die "port $PORT is served by $(port_owner "$PORT"), not by the shardgate just started (pid $pid)"
	echo "shardgate (pid $pid) is listening on $LISTEN"

	step "loading sample data through the proxy: mariadb -h$HOST -P$PORT -uapp -papp shop < examples/demo/shop.sql"
	sg <"$DATA" || die "loading $DATA through shardgate failed (the statement is named above; log: $LOG_FILE)"
	local t n counts=()
	for t in regions products users orders order_items; do
		if n=$(sg -N -B -e "SELECT COUNT(*) FROM $t"); then
			counts+=("$t=$n")
		else
			FAILED+=("SELECT COUNT(*) FROM $t")
			counts+=("$t=?")
		fi
	done
	echo "rows: ${counts[*]}"

	step "a few queries through the proxy"
	show "SELECT status, COUNT(*), SUM(amount) FROM orders GROUP BY status ORDER BY status"
	show "SELECT o.id, o.status, o.amount, i.product_id, i.quantity, i.price FROM orders o JOIN order_items i ON i.order_id = o.id WHERE o.user_id = 7 ORDER BY o.id, i.id"
	show "PREVIEW SELECT * FROM orders WHERE user_id = 7"

	step "where the physical tables landed (directly on the backends)"
	printf '\ndh0-primary> SHOW TABLES FROM shop_0;\n'
	"$TOPO" sql dh0-primary -t "SHOW TABLES FROM shop_0"
	printf '\ndh1-primary> SHOW TABLES FROM shop_1;\n'
	"$TOPO" sql dh1-primary -t "SHOW TABLES FROM shop_1"

	step "the demo is running"
	cat <<EOF
connect:         mariadb -h$HOST -P$PORT -uapp -papp shop
EOF
	if [[ -n $ADMIN ]] && admin_answers; then
		echo "admin console:   $ADMIN (user ops): mariadb -h${ADMIN%:*} -P${ADMIN##*:} -uops -pops"
	fi
	cat <<EOF
config:          $CONFIG
shardgate log:   $LOG_FILE   (pid $pid, binary $BIN)
MariaDB logs:    ${SG_TOPO_DIR:-/var/tmp/shardgate-topology}/NAME/error.log
topology:        ${SG_TOPO_DIR:+SG_TOPO_DIR=$SG_TOPO_DIR }$TOPO_SHOWN status
stop:            $SELF stop   (shardgate only; '$SELF stop --all' also stops the MariaDB topology)
EOF
	if ((${#FAILED[@]})); then
		printf '\n%s: these statements failed through the proxy:\n' "$PROG" >&2
		printf '    %s\n' "${FAILED[@]}" >&2
		return 1
	fi
}

# admin_answers: the admin address is served by our shardgate and accepts a login as ops.
admin_answers() {
	local ah=${ADMIN%:*} ap=${ADMIN##*:} lp pid
	port_open "$ah" "$ap" || return 1
	read -r pid <"$PID_FILE" 2>/dev/null || return 1
	lp=$(port_pid "$ap" || true)
	[[ -z $lp || $lp == "$pid" ]] || return 1
	mariadb --no-defaults --connect-timeout=3 -h"$ah" -P"$ap" -uops -pops </dev/null >/dev/null 2>&1
}

cmd_stop() {
	local all=0 a
	for a in "$@"; do
		case $a in
		--all) all=1 ;;
		*) note "stop: unknown option $a"; usage >&2; exit 2 ;;
		esac
	done
	stop_shardgate
	if ((all)); then
		"$TOPO" down
	fi
}

main() {
	local cmd=${1:-up}
	(($#)) && shift
	case $cmd in
	up | start) (($# == 0)) || { usage >&2; exit 2; }; cmd_up ;;
	stop | down) cmd_stop "$@" ;;
	help | -h | --help) usage ;;
	*) note "unknown command '$cmd'"; usage >&2; exit 2 ;;
	esac
}

main "$@"
