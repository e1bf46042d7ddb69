#!/usr/bin/env bash
# scripts/topology.sh — the local MariaDB test topology of shardgate.
#
# Five mariadbd instances on 127.0.0.1, each with its own datadir, socket, pid file, error log
# and generated my.cnf under $SG_TOPO_DIR (default /var/tmp/shardgate-topology):
#
#   name         port   server_id  role
#   dh0-primary  13306  1          primary of replication group dh0
#   dh0-replica  13316  2          GTID replica of dh0-primary (read_only=ON)
#   dh1-primary  13307  3          primary of replication group dh1
#   dh1-replica  13317  4          GTID replica of dh1-primary (read_only=ON)
#   oracle       13310  5          standalone, the unsharded oracle of the tests
#
# Users on every instance: root (unix socket only), sg/sg (ALL WITH GRANT OPTION, the proxy's
# backend user), repl/repl (REPLICATION SLAVE), gotest/gotest (ALL); database `gotest`.
# Run `scripts/topology.sh help` for the commands.
set -euo pipefail

PROG=${0##*/}
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
TOPO_DIR=${SG_TOPO_DIR:-/var/tmp/shardgate-topology}
TOPO_DIR=${TOPO_DIR%/}
START_TIMEOUT=${SG_TOPO_START_TIMEOUT:-120}   # seconds for an instance to accept connections
REPL_TIMEOUT=${SG_TOPO_REPL_TIMEOUT:-30}      # seconds for replication threads to run
STOP_TIMEOUT=${SG_TOPO_STOP_TIMEOUT:-120}     # seconds for a clean shutdown
LOCK_FILE=${TOPO_DIR}.lock                    # beside the directory, so it survives destroy
MARKER=.shardgate-topology                    # proves a directory is ours before rm -rf
TEMPLATE=$TOPO_DIR/.template
# The account the script uses over the socket: unix_socket authentication maps the OS user to the
# MariaDB user of the same name (mariadb-install-db creates root, and the installing user).
if ((EUID == 0)); then SOCK_USER=root; else SOCK_USER=$(id -un); fi

INSTANCES=(dh0-primary dh0-replica dh1-primary dh1-replica oracle)
declare -A PORT=([dh0-primary]=13306 [dh0-replica]=13316 [dh1-primary]=13307 [dh1-replica]=13317 [oracle]=13310)
PORT_OFFSET=${SG_TOPO_PORT_OFFSET:-0} # to run a second topology beside the first (with its own SG_TOPO_DIR)
[[ $PORT_OFFSET =~ ^[0-9]+$ ]] || { echo "${0##*/}: SG_TOPO_PORT_OFFSET must be a number" >&2; exit 2; }
for _n in "${!PORT[@]}"; do PORT[$_n]=$((PORT[$_n] + PORT_OFFSET)); done
unset _n
declare -A SERVER_ID=([dh0-primary]=1 [dh0-replica]=2 [dh1-primary]=3 [dh1-replica]=4 [oracle]=5)
declare -A ROLE=([dh0-primary]=primary [dh0-replica]=replica [dh1-primary]=primary [dh1-replica]=replica [oracle]=standalone)
declare -A PRIMARY_OF=([dh0-replica]=dh0-primary [dh1-replica]=dh1-primary)
declare -A ENV_NAME=([dh0-primary]=SG_DH0_PRIMARY [dh0-replica]=SG_DH0_REPLICA [dh1-primary]=SG_DH1_PRIMARY [dh1-replica]=SG_DH1_REPLICA [oracle]=SG_ORACLE)

usage() {
	cat <<EOF
usage: $PROG COMMAND [options] [NAME...]

  up [--semisync|--no-semisync] [--durable] [--no-replication] [NAME...]
                 create missing instances, start stopped ones, wait until they accept connections
                 and until replicas replicate; one summary line per instance. Quick when all run.
                 --semisync     turn on semi-synchronous replication (also on a running topology;
                                kept until --no-semisync)
                 --durable      new instances use innodb_flush_log_at_trx_commit=1, sync_binlog=1
                 --no-replication  start the instances, leave replication as it is (e.g. bring
                                back a primary a failover replaced, without following it again)
  down [NAME...] clean shutdown (all when no NAME); data is kept
  kill NAME...   kill -9 (for fault tests); \`up\` brings it back
  destroy        stop everything and remove $TOPO_DIR
  status         one line per instance; exit 0 only if all run and replicas replicate
  env            print shell export lines (eval "\$($PROG env)")
  sql NAME [CLIENT-OPTION...] [SQL...]
                 run SQL as root through the instance's socket (stdin when no SQL);
                 e.g. $PROG sql dh0-replica -N "SELECT @@server_id"

NAMEs: ${INSTANCES[*]}
Environment: SG_TOPO_DIR (default /var/tmp/shardgate-topology), SG_TOPO_PORT_OFFSET (default 0,
  added to every port), SG_TOPO_START_TIMEOUT=$START_TIMEOUT, SG_TOPO_REPL_TIMEOUT=$REPL_TIMEOUT,
  SG_TOPO_STOP_TIMEOUT=$STOP_TIMEOUT (seconds).
Exit codes: 0 ok, 1 failure (or, for status, not all healthy), 2 usage error.
EOF
}


# ---------------------------------------------------------------- instances
created() { [[ -d $TOPO_DIR/$1/data && -f $TOPO_DIR/$1/my.cnf ]]; }

valid_name() { [[ -n ${PORT[$1]+x} ]]; }
check_names() {
	local n
	for n in "$@"; do
		valid_name "$n" || usage_error "unknown instance '$n' (known: ${INSTANCES[*]})"
	done
}

# ---------------------------------------------------------------- binaries
MARIADBD='' MARIADB='' INSTALL_DB=''
find_binaries() {
	MARIADBD=$(find_bin mariadbd) && MARIADB=$(find_bin mariadb) && INSTALL_DB=$(find_bin mariadb-install-db)
}
need_client() {
	[[ -n $MARIADB ]] || MARIADB=$(find_bin mariadb) || die "the mariadb client is not installed (run '$PROG up' to install mariadb-server)"
}
ensure_mariadb() {
	find_binaries && return 0
	note "mariadbd not found: installing mariadb-server (apt-get)"
	local sudo=()
	if ((EUID != 0)); then
		command -v sudo >/dev/null || die "mariadb-server is missing and sudo is not available: install it as root"
		sudo=(sudo -n)
	fi
	command -v apt-get >/dev/null || die "mariadb-server is missing and apt-get is not available: install MariaDB (mariadbd, mariadb, mariadb-install-db)"
	local log=/tmp/shardgate-topology-apt.$$.log
	local apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
	if ! "${apt[@]}" install mariadb-server >"$log" 2>&1; then
		# A fresh machine has no package lists yet.
		if ! { "${apt[@]}" update >>"$log" 2>&1 && "${apt[@]}" install mariadb-server >>"$log" 2>&1; }; then
			tail -n 20 "$log" >&2
			die "apt-get install mariadb-server failed (log: $log)"
		fi
	fi
	rm -f "$log"
	find_binaries || die "mariadb-server installed, but mariadbd, mariadb or mariadb-install-db is still not found"
}
server_version() { "$MARIADBD" --version 2>/dev/null | head -n 1; }
USER_ARGS=() # mariadbd refuses to run as root unless told to
if ((EUID == 0)); then USER_ARGS=(--user=root); fi

# ---------------------------------------------------------------- processes
paused() { # NAME -> stopped by SIGSTOP (a fault test)
	local pid st
	pid=$(running_pid "$1") && st=$(proc_state "$pid") && [[ $st == [Tt] ]]
}
# outdated NAME: the running instance's mariadbd is no longer the installed binary (a package
# upgrade replaced it underneath): servers of two versions answer some statements differently.
outdated() {
	local pid exe
	pid=$(running_pid "$1") || return 1
	exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
	[[ $exe == *" (deleted)" ]]
}

# running_pid NAME: prints the pid of the instance's mariadbd if it is running.
running_pid() {
	local pid
	[[ -r $TOPO_DIR/$1/mysqld.pid ]] || return 1
	read -r pid <"$TOPO_DIR/$1/mysqld.pid" 2>/dev/null || return 1
	[[ $pid =~ ^[0-9]+$ ]] && alive "$pid" || return 1
	# Guard against a recycled pid: the process must be mariadbd with our my.cnf.
	local -a argv=()
	mapfile -d '' argv <"/proc/$pid/cmdline" 2>/dev/null || return 1
	[[ " ${argv[*]} " == *" --defaults-file=$TOPO_DIR/$1/my.cnf "* ]] || return 1
	printf '%s' "$pid"
}


# q NAME SQL [client options]: run SQL as root over the socket, batch output without headers.
q() {
	local n=$1 sql=$2
	shift 2
	"$MARIADB" --no-defaults --protocol=socket -u"$SOCK_USER" -S "$TOPO_DIR/$n/mysqld.sock" --connect-timeout=5 -N -B "$@" -e "$sql"
}

# ---------------------------------------------------------------- configuration
semisync_on() { [[ -f $TOPO_DIR/semisync ]]; }
durable_on() { [[ -f $TOPO_DIR/durable ]]; }

# write_cnf NAME [DIR]: generate the instance's my.cnf (also for the template, NAME=template).
write_cnf() {
	local n=$1 d=${2:-$TOPO_DIR/$1} flush=2 sync=0 tmp
	if durable_on; then flush=1 sync=1; fi
	tmp=$d/my.cnf.tmp.$$
	{
		cat <<EOF
# Generated by scripts/topology.sh on every start; edits are overwritten.
[mysqld]
datadir                        = $d/data
socket                         = $d/mysqld.sock
pid-file                       = $d/mysqld.pid
log-error                      = $d/error.log
tmpdir                         = $d/tmp
EOF
		if [[ $n == template ]]; then
			printf '%-30s = %s\n' server_id 100
			printf 'skip-networking\n'
		else
			printf '%-30s = %s\n' port "${PORT[$n]}" server_id "${SERVER_ID[$n]}" bind-address 127.0.0.1 \
				report_host 127.0.0.1 report_port "${PORT[$n]}"
		fi
		cat <<EOF
skip-name-resolve
max_connect_errors             = 1000000
log_bin                        = mysql-bin
max_binlog_size                = 256M
binlog_expire_logs_seconds     = 7200
relay_log                      = relay-bin
binlog_format                  = ROW
log_slave_updates              = ON
gtid_strict_mode               = ON
gtid_domain_id                 = 0
relay_log_recovery             = ON
slave_parallel_threads         = 0
slave_net_timeout              = 10
local_infile                   = ON
max_connections                = 2000
max_allowed_packet             = 64M
performance_schema             = OFF
innodb_buffer_pool_size        = 96M
innodb_log_file_size           = 48M
innodb_log_buffer_size         = 8M
innodb_flush_log_at_trx_commit = $flush
sync_binlog                    = $sync
key_buffer_size                = 8M
aria_pagecache_buffer_size     = 16M
query_cache_size               = 0
table_open_cache               = 1024
character-set-server           = utf8mb4
collation-server               = utf8mb4_general_ci
log_warnings                   = 1
EOF
		if [[ ${ROLE[$n]:-} == replica ]]; then
			printf '%-30s = %s\n' read_only ON
		fi
		if semisync_on; then
			case ${ROLE[$n]:-} in
			primary) printf '%-30s = %s\n' rpl_semi_sync_master_enabled ON rpl_semi_sync_master_wait_point AFTER_SYNC \
				rpl_semi_sync_master_timeout 10000 ;;
			replica) printf '%-30s = %s\n' rpl_semi_sync_slave_enabled ON ;;
			esac
		fi
	} >"$tmp"
	mv -f "$tmp" "$d/my.cnf"
}

# ---------------------------------------------------------------- start / wait / stop

declare -A LAUNCHED=()
# launch NAME [DIR]: start mariadbd in the background, detached from this shell.
launch() {
	local n=$1 d=${2:-$TOPO_DIR/$1} pid
	rm -f "$d/mysqld.pid"
	mkdir -p "$d/tmp"
	# New session, no inherited stdio and no other inherited descriptor (our lock, a caller's
	# pipes): a caller waiting for EOF on our output must not wait for the server.
	(cd / && close_fds && exec setsid "$MARIADBD" --defaults-file="$d/my.cnf" "${USER_ARGS[@]}" </dev/null >>"$d/mariadbd.out" 2>&1) &
	pid=$!
	disown "$pid" 2>/dev/null || true
	LAUNCHED[$n]=$pid
}


# wait_ready NAME...: wait until each launched instance answers a query over its socket.
wait_ready() {
	local deadline=$((SECONDS + START_TIMEOUT)) n pending=("$@") still err=
	while ((${#pending[@]})); do
		still=()
		for n in "${pending[@]}"; do
			if [[ -S $TOPO_DIR/$n/mysqld.sock ]]; then
				err=$(q "$n" "SELECT 1" 2>&1 >/dev/null) && continue
				[[ $err != *"Access denied"* ]] || die "$n: $err"
			fi
			if ! alive "${LAUNCHED[$n]}"; then
				print_log_tail "$TOPO_DIR/$n/error.log"
				print_log_tail "$TOPO_DIR/$n/mariadbd.out"
				die "$n: mariadbd exited during start-up (see $TOPO_DIR/$n/error.log)"
			fi
			still+=("$n")
		done
		pending=("${still[@]}")
		((${#pending[@]})) || break
		if ((SECONDS >= deadline)); then
			for n in "${pending[@]}"; do print_log_tail "$TOPO_DIR/$n/error.log"; done
			die "timed out after ${START_TIMEOUT}s waiting for ${pending[*]} to accept connections"
		fi
		sleep 0.1
	done
}

# stop_instances SIGNAL NAME...: signal the running instances among NAMEs and wait until they exit.
stop_instances() {
	local sig=$1 n pid deadline
	shift
	local -A pids=()
	for n in "$@"; do
		pid=$(running_pid "$n") || continue
		kill "-$sig" "$pid" 2>/dev/null || die "$n: cannot send SIG$sig to pid $pid"
		pids[$n]=$pid
	done
	deadline=$((SECONDS + STOP_TIMEOUT))
	for n in "${!pids[@]}"; do
		while alive "${pids[$n]}"; do
			((SECONDS < deadline)) || die "$n (pid ${pids[$n]}) did not stop within ${STOP_TIMEOUT}s"
			sleep 0.05
		done
	done
	STOPPED=("${!pids[@]}")
}

# ---------------------------------------------------------------- template and creation
BOOT_PID=
cleanup() {
	if [[ -n $BOOT_PID ]] && alive "$BOOT_PID"; then kill -9 "$BOOT_PID" 2>/dev/null || true; fi
	if [[ -n ${BOOT_DIR:-} ]]; then rm -rf "$BOOT_DIR"; fi
}
trap cleanup EXIT

template_ok() { [[ -f $TEMPLATE/ready && "$(cat "$TEMPLATE/ready")" == "$(server_version)" ]]; }

# build_template: mariadb-install-db once, then users, RESET MASTER, clean shutdown.
build_template() {
	template_ok && return 0
	note "creating template datadir ($(server_version | awk '{print $3}'))"
	BOOT_DIR=$TOPO_DIR/.template.tmp.$$
	rm -rf "$BOOT_DIR"
	mkdir -p "$BOOT_DIR/tmp"
	write_cnf template "$BOOT_DIR"
	local log=$BOOT_DIR/install-db.log
	if ! "$INSTALL_DB" --defaults-file="$BOOT_DIR/my.cnf" "${USER_ARGS[@]}" --auth-root-authentication-method=socket \
		--skip-test-db --skip-name-resolve >"$log" 2>&1 9>&-; then
		print_log_tail "$log"
		die "mariadb-install-db failed (log: $log)"
	fi
	(cd / && close_fds && exec setsid "$MARIADBD" --defaults-file="$BOOT_DIR/my.cnf" "${USER_ARGS[@]}" </dev/null >>"$BOOT_DIR/mariadbd.out" 2>&1) &
	BOOT_PID=$!
	disown "$BOOT_PID" 2>/dev/null || true
	local deadline=$((SECONDS + START_TIMEOUT)) b=("$MARIADB" --no-defaults --protocol=socket -u"$SOCK_USER" -S "$BOOT_DIR/mysqld.sock")
	local err=
	until [[ -S $BOOT_DIR/mysqld.sock ]] && err=$("${b[@]}" -e "SELECT 1" 2>&1 >/dev/null); do
		[[ $err != *"Access denied"* ]] || die "template server: $err"
		alive "$BOOT_PID" || { print_log_tail "$BOOT_DIR/error.log"; die "template server exited during start-up"; }
		((SECONDS < deadline)) || { print_log_tail "$BOOT_DIR/error.log"; die "template server did not start within ${START_TIMEOUT}s"; }
		sleep 0.1
	done
	"${b[@]}" <<'EOF' || die "creating users in the template failed"
DELETE FROM mysql.global_priv WHERE User='';
DELETE FROM mysql.proxies_priv WHERE Host <> 'localhost';
FLUSH PRIVILEGES;
CREATE USER IF NOT EXISTS 'sg'@'%' IDENTIFIED BY 'sg';
GRANT ALL PRIVILEGES ON *.* TO 'sg'@'%' WITH GRANT OPTION;
CREATE USER IF NOT EXISTS 'repl'@'%' IDENTIFIED BY 'repl';
GRANT REPLICATION SLAVE ON *.* TO 'repl'@'%';
CREATE USER IF NOT EXISTS 'gotest'@'%' IDENTIFIED BY 'gotest';
GRANT ALL PRIVILEGES ON *.* TO 'gotest'@'%';
CREATE DATABASE IF NOT EXISTS gotest;
RESET MASTER;
SET GLOBAL gtid_slave_pos = '';
SHUTDOWN;
EOF
	deadline=$((SECONDS + STOP_TIMEOUT))
	while alive "$BOOT_PID"; do
		((SECONDS < deadline)) || die "template server did not shut down within ${STOP_TIMEOUT}s"
		sleep 0.05
	done
	BOOT_PID=
	rm -rf "$TEMPLATE"
	mkdir -p "$TEMPLATE"
	rm -f "$BOOT_DIR/data/ibtmp1"
	mv "$BOOT_DIR/data" "$TEMPLATE/data"
	rm -rf "$BOOT_DIR"
	BOOT_DIR=
	server_version >"$TEMPLATE/ready"
}

# create NAME: copy the template datadir into a new instance directory.
create_instance() {
	local n=$1 d tmp
	d=$TOPO_DIR/$n
	tmp=$TOPO_DIR/.$n.tmp.$$
	rm -rf "$tmp"
	mkdir -p "$tmp/tmp"
	# Sparse: the zero-filled redo log and tablespace tails cost no writes.
	cp -a --sparse=always "$TEMPLATE/data" "$tmp/data"
	rm -rf "$d" # only ever a half-made directory here: created() was false
	mv "$tmp" "$d"
	write_cnf "$n"
}

# clean_stale: remove what an interrupted run left (under the lock, no other run is creating):
# half-copied instances and a half-built template, whose server may still run.
clean_stale() {
	local d pid argv=()
	for d in "$TOPO_DIR"/.*.tmp.*; do
		[[ -d $d ]] || continue
		if [[ -f $d/mysqld.pid ]] && read -r pid <"$d/mysqld.pid" && [[ $pid =~ ^[0-9]+$ ]] && alive "$pid" &&
			mapfile -d '' argv <"/proc/$pid/cmdline" && [[ " ${argv[*]} " == *" --defaults-file=$d/my.cnf "* ]]; then
			kill -9 "$pid" 2>/dev/null || true
			while alive "$pid"; do sleep 0.05; done
		fi
		rm -rf "$d"
	done
}

init_topo_dir() {
	if [[ -d $TOPO_DIR && ! -f $TOPO_DIR/$MARKER ]] && [[ -n "$(ls -A "$TOPO_DIR")" ]]; then
		die "$TOPO_DIR exists, is not empty and is not a shardgate topology: set SG_TOPO_DIR elsewhere"
	fi
	mkdir -p "$TOPO_DIR"
	touch "$TOPO_DIR/$MARKER"
}


# ---------------------------------------------------------------- replication
# slave_status NAME: fills SS[] with the fields of SHOW SLAVE STATUS (empty if not a replica).
declare -A SS=()
slave_status() {
	local out
	out=$("$MARIADB" --no-defaults --protocol=socket -u"$SOCK_USER" -S "$TOPO_DIR/$1/mysqld.sock" --connect-timeout=5 -B \
		-e 'SHOW SLAVE STATUS\G' 2>/dev/null) || { SS=(); return 1; }
	local -a lines
	mapfile -t lines <<<"$out"
	parse_vertical "${lines[@]}"
}
# parse_vertical LINE...: the "Field: value" lines of a \G result into SS[].
parse_vertical() {
	local line k v
	SS=()
	for line in "$@"; do
		[[ $line == *:* ]] || continue
		k=${line%%:*}
		k=${k//[[:space:]]/}
		v=${line#*:}
		v=${v# }
		SS[$k]=$v
	done
}
repl_ok() { [[ ${SS[Slave_IO_Running]:-} == Yes && ${SS[Slave_SQL_Running]:-} == Yes ]]; }

# ensure_replication NAME: configure the replica if it never was, start its threads if stopped.
# Sets REPL_OK[NAME]=1 when both threads already run.
declare -A REPL_OK=()
ensure_replication() {
	local n=$1 p=${PRIMARY_OF[$1]}
	REPL_OK[$n]=0
	slave_status "$n" || die "$n: SHOW SLAVE STATUS failed"
	if repl_ok; then
		REPL_OK[$n]=1
	elif [[ -z ${SS[Master_Host]:-} ]]; then
		q "$n" "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=${PORT[$p]}, MASTER_USER='repl', MASTER_PASSWORD='repl', MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1; START SLAVE;" ||
			die "$n: CHANGE MASTER / START SLAVE failed"
	elif [[ ${SS[Slave_IO_Running]:-} == No || ${SS[Slave_SQL_Running]:-} == No ]]; then
		q "$n" "START SLAVE" >/dev/null 2>&1 || true
	fi
}

# wait_replication NAME...: until Slave_IO_Running=Yes and Slave_SQL_Running=Yes on each.
wait_replication() {
	local deadline=$((SECONDS + REPL_TIMEOUT)) start=${EPOCHREALTIME/[.,]/} n pending=("$@") still failed
	while ((${#pending[@]})); do
		still=() failed=0
		for n in "${pending[@]}"; do
			slave_status "$n" || true
			repl_ok && continue
			still+=("$n")
			# A thread that stopped with an error (after our START SLAVE cleared the old ones)
			# will not recover by waiting; an IO thread still "Connecting" might.
			if ((${EPOCHREALTIME/[.,]/} - start >= 1000000)) && [[ (${SS[Slave_SQL_Running]:-} == No && ${SS[Last_SQL_Errno]:-0} != 0) ||
				(${SS[Slave_IO_Running]:-} == No && ${SS[Last_IO_Errno]:-0} != 0) ]]; then
				failed=1
			fi
		done
		pending=("${still[@]}")
		((${#pending[@]})) || break
		if ((failed || SECONDS >= deadline)); then
			for n in "${pending[@]}"; do
				slave_status "$n" || true
				printf '%s: %s: Slave_IO_Running=%s Slave_SQL_Running=%s\n    Last_IO_Error: %s\n    Last_SQL_Error: %s\n' \
					"$PROG" "$n" "${SS[Slave_IO_Running]:-?}" "${SS[Slave_SQL_Running]:-?}" \
					"${SS[Last_IO_Error]:-}" "${SS[Last_SQL_Error]:-}" >&2
			done
			die "replication of ${pending[*]} is not running (if the GTID histories diverged, e.g. after a failover test: $PROG destroy && $PROG up)"
		fi
		sleep 0.1
	done
}

# apply_semisync on|off: SET GLOBAL on the running members of the replication groups.
apply_semisync() {
	local want=$1 n v
	for n in "${INSTANCES[@]}"; do
		is_running "$n" || continue
		case ${ROLE[$n]} in
		primary)
			if [[ $want == on ]]; then
				q "$n" "SET GLOBAL rpl_semi_sync_master_wait_point=AFTER_SYNC; SET GLOBAL rpl_semi_sync_master_timeout=10000; SET GLOBAL rpl_semi_sync_master_enabled=ON" ||
					die "$n: enabling semi-sync failed"
			else
				q "$n" "SET GLOBAL rpl_semi_sync_master_enabled=OFF" || die "$n: disabling semi-sync failed"
			fi
			;;
		replica)
			v=$(q "$n" "SELECT @@rpl_semi_sync_slave_enabled") || die "$n: query failed"
			[[ ($want == on && $v == 1) || ($want == off && $v == 0) ]] && continue
			local val=ON
			[[ $want == on ]] || val=OFF
			# The IO thread registers as semi-sync only when it (re)connects.
			q "$n" "SET GLOBAL rpl_semi_sync_slave_enabled=$val; STOP SLAVE IO_THREAD; START SLAVE IO_THREAD" ||
				die "$n: switching semi-sync $want failed"
			REPL_OK[$n]=0
			;;
		esac
	done
}

# ---------------------------------------------------------------- summaries
active() { if [[ $1 == ON ]]; then printf active; else printf inactive; fi; }

# describe NAME [NOTE]: one status line; returns 1 if not running or not replicating.
describe() {
	local n=$1 what=${2:+ ($2)} ok=0 line sid ro mss ms ssse sss mcl gtid
	local addr="127.0.0.1:${PORT[$n]}" role=${ROLE[$n]}
	[[ $role == replica ]] && role="replica of ${PRIMARY_OF[$n]}"
	if ! created "$n"; then
		printf '%-12s %-8s %-16s server_id=%-2s %s\n' "$n" absent "$addr" "${SERVER_ID[$n]}" "$role"
		return 1
	fi
	if ! is_running "$n"; then
		printf '%-12s %-8s %-16s server_id=%-2s %s\n' "$n" stopped "$addr" "${SERVER_ID[$n]}" "$role"
		return 1
	fi
	if paused "$n"; then
		printf '%-12s %-8s %-16s server_id=%-2s %s (SIGSTOPped: %s up %s resumes it)\n' "$n" paused "$addr" "${SERVER_ID[$n]}" "$role" "$PROG" "$n"
		return 1
	fi
	# One client run: the variables as a tab-separated row (with header), then SHOW SLAVE STATUS\G.
	local out extra=
	[[ ${ROLE[$n]} == replica ]] && extra='; SHOW SLAVE STATUS\G'
	out=$("$MARIADB" --no-defaults --protocol=socket -u"$SOCK_USER" -S "$TOPO_DIR/$n/mysqld.sock" --connect-timeout=5 -B -e \
		"SELECT @@server_id, @@read_only, @@rpl_semi_sync_master_enabled,
		(SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME='RPL_SEMI_SYNC_MASTER_STATUS'),
		(SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME='RPL_SEMI_SYNC_MASTER_CLIENTS'),
		@@rpl_semi_sync_slave_enabled,
		(SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME='RPL_SEMI_SYNC_SLAVE_STATUS'),
		IF(@@gtid_current_pos='', '-', @@gtid_current_pos)$extra" 2>/dev/null) || {
		printf '%-12s %-8s %-16s server_id=%-2s %s (not answering)\n' "$n" running "$addr" "${SERVER_ID[$n]}" "$role"
		return 1
	}
	local -a lines
	mapfile -t lines <<<"$out"
	IFS=$'\t' read -r sid ro mss ms mcl ssse sss gtid <<<"${lines[1]:-}"
	parse_vertical "${lines[@]:2}"
	line=$(printf '%-12s %-8s %-16s server_id=%-2s %s' "$n" running "$addr" "$sid" "$role")
	[[ $ro == 1 ]] && line+=" read_only"
	case ${ROLE[$n]} in
	replica)
		if [[ -z ${SS[Master_Host]:-} ]]; then
			line+=" replication=not-configured"
			ok=1
		else
			line+=" io=${SS[Slave_IO_Running]:-?} sql=${SS[Slave_SQL_Running]:-?} lag=${SS[Seconds_Behind_Master]:-?}"
			[[ ${SS[Master_Port]:-} == "${PORT[${PRIMARY_OF[$n]}]}" ]] || line+=" master_port=${SS[Master_Port]:-?}"
			repl_ok || ok=1
		fi
		if [[ $ssse == 1 ]]; then line+=" semisync=on($(active "$sss"))"; else line+=" semisync=off"; fi
		;;
	primary)
		if [[ $mss == 1 ]]; then line+=" semisync=on($(active "$ms"),clients=$mcl)"; else line+=" semisync=off"; fi
		;;
	esac
	line+=" gtid=$gtid$what"
	say "$line"
	return $ok
}

# ---------------------------------------------------------------- commands
cmd_up() {
	local names=() semisync='' durable=0 norepl=0 a n
	for a in "$@"; do
		case $a in
		--no-replication) norepl=1 ;;
		--semisync) semisync=on ;;
		--no-semisync) semisync=off ;;
		--durable) durable=1 ;;
		-*) usage_error "up: unknown option $a" ;;
		*) names+=("$a") ;;
		esac
	done
	check_names "${names[@]}"
	((${#names[@]})) || names=("${INSTANCES[@]}")
	ensure_mariadb
	take_lock
	init_topo_dir
	clean_stale

	local any=0
	for n in "${INSTANCES[@]}"; do created "$n" && any=1; done
	if ((durable)); then
		if ((any == 0)); then touch "$TOPO_DIR/durable"; elif ! durable_on; then
			note "--durable ignored: the topology already exists (run '$PROG destroy' first)"
		fi
	fi
	case $semisync in
	on) touch "$TOPO_DIR/semisync" ;;
	off) rm -f "$TOPO_DIR/semisync" ;;
	esac

	# Create and start what is missing.
	local -A action=() copying=()
	local to_start=()
	for n in "${names[@]}"; do
		action[$n]=
		if paused "$n"; then
			kill -CONT "$(running_pid "$n")" && action[$n]=resumed
		fi
		if outdated "$n"; then
			note "$n: its mariadbd binary was replaced since it started (a package upgrade): restarting it"
			stop_instances TERM "$n"
		fi
		is_running "$n" && continue
		if port_open "${PORT[$n]}"; then
			die "$n: port ${PORT[$n]} is already in use by $(port_owner "${PORT[$n]}"), not by this topology ($TOPO_DIR)"
		fi
		to_start+=("$n")
	done
	for n in "${to_start[@]}"; do
		if ! created "$n"; then
			build_template
			create_instance "$n" &
			copying[$n]=$!
			action[$n]=created
		else
			action[$n]=started
		fi
	done
	for n in "${!copying[@]}"; do
		wait "${copying[$n]}" || die "$n: creating the instance from the template failed"
	done
	for n in "${to_start[@]}"; do
		write_cnf "$n"
		launch "$n"
	done
	wait_ready "${to_start[@]}"

	# Replicas to look after: those named, and those whose primary is named; both must run.
	local repl=()
	for n in dh0-replica dh1-replica; do
		((norepl)) && break
		[[ " ${names[*]} " == *" $n "* || " ${names[*]} " == *" ${PRIMARY_OF[$n]} "* ]] || continue
		is_running "$n" || continue
		if ! is_running "${PRIMARY_OF[$n]}"; then
			note "$n: its primary ${PRIMARY_OF[$n]} is not running; replication resumes when it starts"
			continue
		fi
		repl+=("$n")
	done
	for n in "${repl[@]}"; do ensure_replication "$n"; done
	if [[ -n $semisync ]]; then
		apply_semisync "$semisync"
	fi
	local waitfor=()
	for n in "${repl[@]}"; do [[ ${REPL_OK[$n]} == 1 ]] || waitfor+=("$n"); done
	wait_replication "${waitfor[@]}"

	local rc=0
	for n in "${names[@]}"; do
		describe "$n" "${action[$n]:-}" || rc=1
	done
	return $rc
}

cmd_down() {
	local names=("$@")
	check_names "${names[@]}"
	((${#names[@]})) || names=("${INSTANCES[@]}")
	[[ -d $TOPO_DIR ]] || { say "nothing to stop: $TOPO_DIR does not exist"; return 0; }
	take_lock
	STOPPED=()
	stop_instances TERM "${names[@]}"
	local n
	for n in "${names[@]}"; do
		if [[ " ${STOPPED[*]} " == *" $n "* ]]; then say "$n stopped"; elif created "$n"; then say "$n was not running"; fi
	done
}

cmd_kill() {
	(($#)) || usage_error "kill: name at least one instance (${INSTANCES[*]})"
	check_names "$@"
	STOPPED=()
	stop_instances KILL "$@"
	local n
	for n in "$@"; do
		if [[ " ${STOPPED[*]} " == *" $n "* ]]; then say "$n killed"; else say "$n was not running"; fi
	done
}

cmd_destroy() {
	(($# == 0)) || usage_error "destroy takes no arguments (it removes the whole topology)"
	[[ -e $TOPO_DIR ]] || { say "nothing to destroy: $TOPO_DIR does not exist"; return 0; }
	[[ -f $TOPO_DIR/$MARKER ]] || die "$TOPO_DIR is not a shardgate topology (no $MARKER): not removing it"
	take_lock
	STOPPED=()
	stop_instances KILL "${INSTANCES[@]}"
	clean_stale
	rm -rf "$TOPO_DIR"
	say "destroyed $TOPO_DIR"
}

cmd_status() {
	(($# == 0)) || usage_error "status takes no arguments"
	need_client
	local n rc=0
	if semisync_on; then say "topology $TOPO_DIR (semisync requested)"; else say "topology $TOPO_DIR"; fi
	for n in "${INSTANCES[@]}"; do describe "$n" || rc=1; done
	return $rc
}

cmd_env() {
	local n
	say "export SG_TOPO_DIR=$TOPO_DIR"
	for n in "${INSTANCES[@]}"; do
		say "export ${ENV_NAME[$n]}=127.0.0.1:${PORT[$n]}"
		say "export ${ENV_NAME[$n]}_SOCKET=$TOPO_DIR/$n/mysqld.sock"
	done
	say "export SG_BACKEND_USER=sg SG_BACKEND_PASSWORD=sg"
	say "export SG_GOTEST_USER=gotest SG_GOTEST_PASSWORD=gotest SG_GOTEST_DB=gotest"
}

cmd_sql() {
	(($#)) || usage_error "sql: usage: sql NAME [CLIENT-OPTION...] [SQL...]"
	local n=$1 opts=() sql=()
	shift
	check_names "$n"
	need_client
	while (($#)) && [[ $1 == -* ]]; do
		case $1 in
		-e | --execute) (($# >= 2)) || usage_error "sql: $1 needs an argument"; sql+=("$2"); shift 2 ;;
		*) opts+=("$1"); shift ;;
		esac
	done
	sql+=("$@")
	is_running "$n" || die "$n is not running (run: $PROG up $n)"
	local c=("$MARIADB" --no-defaults --protocol=socket -u"$SOCK_USER" -S "$TOPO_DIR/$n/mysqld.sock" "${opts[@]}")
	if ((${#sql[@]})); then
		exec "${c[@]}" -e "${sql[*]}"
	else
		exec "${c[@]}"
	fi
}

main() {
	(($#)) || { usage >&2; exit 2; }
	local cmd=$1
	shift
	case $cmd in
	up | start) cmd_up "$@" ;;
	down | stop) find_binaries || true; cmd_down "$@" ;;
	kill) cmd_kill "$@" ;;
	destroy) cmd_destroy "$@" ;;
	status) find_binaries || true; cmd_status "$@" ;;
	env) cmd_env "$@" ;;
	sql) find_binaries || true; cmd_sql "$@" ;;
	help | -h | --help) usage ;;
	*) usage_error "unknown command '$cmd'" ;;
	esac
}

main "$@"
