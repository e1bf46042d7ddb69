#!/usr/bin/env bash
# scripts/client-test/run.sh — run MariaDB's binary-protocol conformance suite
# (mariadb-client-test, a.k.a. mysql_client_test: prepared statements, cursors,
# change_user, ...) directly against MariaDB and through shardgate, one test per
# process, and compare.
#
#   scripts/client-test/run.sh [TEST...]        all tests when none is named
#   scripts/client-test/run.sh -h
#
# Environment (defaults in brackets):
#   SERVER        private | NAME | external                                    [private]
#                 private: two fresh standalone MariaDB instances made with
#                   scripts/topology.sh under PRIVATE_DIR, one per pass (direct on
#                   port 15310, proxy pass on 15410), with the settings
#                   mysql-test-run gives the suite (sql_mode='', MyISAM, latin1,
#                   log_bin_trust_function_creators). Nothing shared is touched.
#                 NAME: an instance of the shared topology (e.g. dh0-primary); both
#                   passes use it one after the other; no SET GLOBAL is done there,
#                   so more tests fail directly.
#                 external: DIRECT_ADDR as it is; the user must exist already.
#   DIRECT_ADDR   server for the direct pass (and the proxy's backend)  [from SERVER]
#   PROXY_ADDR    where the proxy listens                               [127.0.0.1:3407]
#   CT_USER, CT_PASSWORD  account the suite logs in with, on the server and in
#                 the proxy config (USER is the login name in most shells, hence
#                 the prefix; USER/PASSWORD are not read)               [ct / ct]
#   BACKEND_USER, BACKEND_PASSWORD  the proxy's account on the server   [sg / sg]
#   DB            database the suite connects to (-D); it then creates,
#                 uses and drops `client_test_db` (fixed name)          [test]
#   JOBS          1: passes one after the other; 2: direct and proxy passes at
#                 once (private only: the suite's database name is fixed and
#                 tests change global state, so two runs may not share a server) [2 if private]
#   TIMEOUT       seconds per test                                      [60]
#   RESULTS       output directory (wiped)                              [/tmp/shardgate-client-test]
#   SHARDGATE     proxy binary to use; built from the tree when empty   []
#   PHYS_PREFIX   prefix for the physical database names behind the logical
#                 schemas (e.g. p_: client_test_db -> p_client_test_db), to test
#                 the proxy's renaming; the tests expect the logical names []
#   KEEP_SERVERS  1: leave the private servers running at the end       [0]
#   PRIVATE_DIR   where the private servers live                        [/var/tmp/shardgate-client-test-topo]
#
# What the suite needs: an account with ALL PRIVILEGES ON *.* WITH GRANT OPTION
# (tests create users, GRANT, SET GLOBAL, KILL) and the database it connects to;
# it works in `client_test_db` (fixed name), and test_bug53371 uses `bug53371`.
# The proxy config (shardgate.yaml beside this script, a template) gives the
# account those three logical schemas, each mapped whole onto the physical
# database of the same name. With SERVER=NAME the account and the `test`
# database are created on that server and left there.
#
# Failures already diagnosed are listed with their cause in known-failures.tsv
# beside this script; the summary marks any other one as NEW.
#
# Output: RESULTS/summary.txt (also printed), RESULTS/results.tsv
# (test, direct, proxy), RESULTS/direct/TEST.log, RESULTS/proxy/TEST.log and
# RESULTS/proxy/TEST.proxylog (the proxy's debug log while that test ran),
# RESULTS/proxy.log (whole proxy log).
# Exit: 0 when every test that passes directly passes through the proxy,
# 1 when some do not, 2 on a setup error.
set -euo pipefail

PROG=${0##*/}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
TOPO=$REPO/scripts/topology.sh

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }
case ${1:-} in -h | --help | help) usage; exit 0 ;; esac

RESULTS=${RESULTS:-/tmp/shardgate-client-test}
RESULTS=${RESULTS%/}
PROXY_ADDR=${PROXY_ADDR:-127.0.0.1:3407}
SERVER=${SERVER:-private}
DIRECT_ADDR=${DIRECT_ADDR:-}
CT_USER=${CT_USER:-ct}
CT_PASSWORD=${CT_PASSWORD:-ct}
BACKEND_USER=${BACKEND_USER:-sg}
BACKEND_PASSWORD=${BACKEND_PASSWORD:-sg}
DB=${DB:-test}
TIMEOUT=${TIMEOUT:-60}
SHARDGATE=${SHARDGATE:-}
KEEP_SERVERS=${KEEP_SERVERS:-0}
PHYS_PREFIX=${PHYS_PREFIX:-}
PRIVATE_DIR=${PRIVATE_DIR:-/var/tmp/shardgate-client-test-topo}
PRIVATE_DIR=${PRIVATE_DIR%/}
if [[ $SERVER == private ]]; then JOBS=${JOBS:-2}; else JOBS=${JOBS:-1}; fi

say() { printf '%s\n' "$*"; }
die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 2; }
[[ $JOBS =~ ^[12]$ ]] || die "JOBS must be 1 or 2"
[[ $TIMEOUT =~ ^[0-9]+$ ]] || die "TIMEOUT must be a number of seconds"
if [[ $SERVER != private && $JOBS != 1 ]]; then
	say "$PROG: JOBS=$JOBS needs SERVER=private (one server per pass); running with JOBS=1"
	JOBS=1
fi

# ---------------------------------------------------------------- cleanup
PROXY_PID='' DIRECT_JOB=''
PRIVATE_STARTED=()
cleanup() {
	local rc=$?
	if [[ -n $DIRECT_JOB ]] && kill -0 "$DIRECT_JOB" 2>/dev/null; then
		pkill -P "$DIRECT_JOB" 2>/dev/null || true
		kill "$DIRECT_JOB" 2>/dev/null || true
	fi
	if [[ -n $PROXY_PID ]] && kill -0 "$PROXY_PID" 2>/dev/null; then
		kill "$PROXY_PID" 2>/dev/null || true
		wait "$PROXY_PID" 2>/dev/null || true
	fi
	if [[ $KEEP_SERVERS != 1 ]]; then
		local lane
		for lane in "${PRIVATE_STARTED[@]}"; do
			private_topo "$lane" down oracle >/dev/null 2>&1 || true
		done
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- tools
ensure_suite() {
	command -v mariadb-client-test >/dev/null && command -v mariadb >/dev/null && return 0
	say "installing mariadb-test (apt-get)"
	local apt=(env DEBIAN_FRONTEND=noninteractive apt-get -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
	((EUID == 0)) || apt=(sudo -n "${apt[@]}")
	if ! "${apt[@]}" install mariadb-test mariadb-client >"$RESULTS/apt.log" 2>&1; then
		"${apt[@]}" update >>"$RESULTS/apt.log" 2>&1 || true
		"${apt[@]}" install mariadb-test mariadb-client >>"$RESULTS/apt.log" 2>&1 ||
			{ tail -n 20 "$RESULTS/apt.log" >&2; die "apt-get install mariadb-test failed (log: $RESULTS/apt.log)"; }
	fi
	command -v mariadb-client-test >/dev/null || die "mariadb-test is installed but mariadb-client-test is not on PATH"
}

# ---------------------------------------------------------------- servers
# Lane "direct" is the server of the direct pass, lane "proxy" the proxy's backend.
declare -A ADDR=()

private_topo() { # lane topology.sh-args...
	local lane=$1 off=2000
	shift
	[[ $lane == proxy ]] && off=2100
	SG_TOPO_DIR=$PRIVATE_DIR/$lane SG_TOPO_PORT_OFFSET=$off "$TOPO" "$@"
}

SETUP_SQL="CREATE USER IF NOT EXISTS '$CT_USER'@'%' IDENTIFIED BY '$CT_PASSWORD';
GRANT ALL PRIVILEGES ON *.* TO '$CT_USER'@'%' WITH GRANT OPTION;
CREATE DATABASE IF NOT EXISTS \`$DB\`;"
# What mysql-test-run starts the server with for this suite (include/default_mysqld.cnf,
# main/mysql_client_test-master.opt, include/default_charset.inc), settable at run time.
MTR_SQL="SET GLOBAL sql_mode='', default_storage_engine=MyISAM,
  character_set_server=latin1, collation_server=latin1_swedish_ci,
  log_bin_trust_function_creators=1, max_allowed_packet=32000000, log_output='FILE,TABLE';
SET GLOBAL proxy_protocol_networks='*';"

setup_servers() {
	case $SERVER in
	private)
		local lane
		for lane in direct proxy; do
			mkdir -p "$PRIVATE_DIR"
			private_topo "$lane" destroy >/dev/null
			PRIVATE_STARTED+=("$lane")
			private_topo "$lane" up oracle >"$RESULTS/server-$lane.log" 2>&1 ||
				{ cat "$RESULTS/server-$lane.log" >&2; die "could not start the private $lane server"; }
			private_topo "$lane" sql oracle "$SETUP_SQL $MTR_SQL" || die "setup of the private $lane server failed"
			ADDR[$lane]=$(private_topo "$lane" env | sed -n 's/^export SG_ORACLE=//p')
			say "server for the $lane pass: ${ADDR[$lane]} (private, fresh; $PRIVATE_DIR/$lane)"
		done
		;;
	external)
		[[ -n $DIRECT_ADDR ]] || die "SERVER=external needs DIRECT_ADDR"
		ADDR[direct]=$DIRECT_ADDR ADDR[proxy]=$DIRECT_ADDR
		say "server for both passes: $DIRECT_ADDR (external, not set up)"
		;;
	*)
		"$TOPO" up "$SERVER" >"$RESULTS/server.log" 2>&1 || { cat "$RESULTS/server.log" >&2; die "topology.sh up $SERVER failed"; }
		local var
		var=SG_$(tr 'a-z-' 'A-Z_' <<<"$SERVER")
		ADDR[direct]=$("$TOPO" env | sed -n "s/^export $var=//p")
		[[ -n ${ADDR[direct]} ]] || die "no address for topology instance '$SERVER'"
		[[ -z $DIRECT_ADDR || $DIRECT_ADDR == "${ADDR[direct]}" ]] || die "DIRECT_ADDR=$DIRECT_ADDR is not $SERVER's address ${ADDR[direct]}"
		"$TOPO" sql "$SERVER" "$SETUP_SQL" || die "setup on $SERVER failed"
		ADDR[proxy]=${ADDR[direct]}
		say "server for both passes: ${ADDR[direct]} (shared topology instance $SERVER; no mysql-test-run settings applied)"
		;;
	esac
	if [[ $SERVER == private && -n $DIRECT_ADDR ]]; then
		say "$PROG: note: DIRECT_ADDR is ignored with SERVER=private (use SERVER=external)"
	fi
}

host_of() { printf '%s' "${1%:*}"; }
port_of() { printf '%s' "${1##*:}"; }

wait_sql() { # addr seconds: wait until CT_USER can log in
	local addr=$1 deadline=$((SECONDS + $2))
	while ! mariadb --no-defaults -h "$(host_of "$addr")" -P "$(port_of "$addr")" -u "$CT_USER" -p"$CT_PASSWORD" \
		--connect-timeout=2 -N -e 'SELECT 1' >/dev/null 2>&1; do
		((SECONDS < deadline)) || return 1
		sleep 0.2
	done
}

reset_db() { # addr: drop what the tests leave behind when they die
	mariadb --no-defaults -h "$(host_of "$1")" -P "$(port_of "$1")" -u "$CT_USER" -p"$CT_PASSWORD" -N \
		-e "DROP DATABASE IF EXISTS \`${PHYS_PREFIX}client_test_db\`; DROP DATABASE IF EXISTS \`${PHYS_PREFIX}bug53371\`;
		    DROP DATABASE IF EXISTS client_test_db; DROP DATABASE IF EXISTS bug53371" >/dev/null 2>&1
}

# ---------------------------------------------------------------- proxy
PROXY_STARTS=0
start_proxy() {
	PROXY_STARTS=$((PROXY_STARTS + 1))
	"$SHARDGATE" --config "$RESULTS/shardgate.yaml" >>"$RESULTS/proxy.log" 2>&1 &
	PROXY_PID=$!
	if ! wait_sql "$PROXY_ADDR" 15; then
		tail -n 20 "$RESULTS/proxy.log" >&2
		die "the proxy did not accept '$CT_USER' on $PROXY_ADDR within 15 s (log: $RESULTS/proxy.log)"
	fi
}

setup_proxy() {
	if [[ -z $SHARDGATE ]]; then
		command -v go >/dev/null || die "go is not installed (or set SHARDGATE=/path/to/shardgate)"
		say "building shardgate from $REPO"
		(cd "$REPO" && go build -o "$RESULTS/shardgate" ./cmd/shardgate) >"$RESULTS/build.log" 2>&1 ||
			{ cat "$RESULTS/build.log" >&2; die "go build failed (the tree may be mid-change; or set SHARDGATE)"; }
		SHARDGATE=$RESULTS/shardgate
	fi
	[[ -x $SHARDGATE ]] || die "SHARDGATE=$SHARDGATE is not executable"
	sed -e "s|@PROXY_ADDR@|$PROXY_ADDR|; s|@DIRECT_ADDR@|${ADDR[proxy]}|; s|@CT_USER@|$CT_USER|; s|@CT_PASSWORD@|$CT_PASSWORD|" \
		-e "s|user: sg|user: $BACKEND_USER|; s|password: sg|password: $BACKEND_PASSWORD|" \
		-e "s|database: |database: $PHYS_PREFIX|" \
		"$HERE/shardgate.yaml" >"$RESULTS/shardgate.yaml"
	"$SHARDGATE" check-config "$RESULTS/shardgate.yaml" >/dev/null || die "config $RESULTS/shardgate.yaml is not valid"
	if (exec 3<>"/dev/tcp/$(host_of "$PROXY_ADDR")/$(port_of "$PROXY_ADDR")") 2>/dev/null; then
		die "something already listens on $PROXY_ADDR (set PROXY_ADDR)"
	fi
	start_proxy
	say "proxy: $SHARDGATE on $PROXY_ADDR, pid $PROXY_PID (log: $RESULTS/proxy.log)"
}

# ---------------------------------------------------------------- passes
run_pass() { # lane addr: runs every test, writes RESULTS/lane.rc (test rc seconds)
	local lane=$1 addr=$2 t rc=0 off end t0 n=0 pass=0 started=$SECONDS
	local -a args=(--no-defaults -h "$(host_of "$addr")" -P "$(port_of "$addr")" -u "$CT_USER" -p"$CT_PASSWORD"
		-D "$DB" --testcase --vardir="$RESULTS/var-$lane")
	mkdir -p "$RESULTS/$lane" "$RESULTS/var-$lane"
	: >"$RESULTS/$lane.rc"
	for t in "${TESTS[@]}"; do
		off=0
		[[ $lane == proxy ]] && off=$(stat -c %s "$RESULTS/proxy.log")
		t0=$SECONDS
		# A test that dies on a failed check exits without dropping client_test_db:
		# clean up after it so the failure does not cascade into the next tests.
		if ((rc != 0)); then
			reset_db "${ADDR[$lane]}" || say "$PROG: warning: could not drop client_test_db on ${ADDR[$lane]} before $t" >&2
		fi
		rc=0
		timeout -k 5 "$TIMEOUT" mariadb-client-test "${args[@]}" "$t" >"$RESULTS/$lane/$t.log" 2>&1 </dev/null || rc=$?
		if [[ $lane == proxy ]]; then
			end=$(stat -c %s "$RESULTS/proxy.log")
			tail -c +"$((off + 1))" "$RESULTS/proxy.log" | head -c "$((end - off))" >"$RESULTS/proxy/$t.proxylog" || true
			if ! kill -0 "$PROXY_PID" 2>/dev/null; then
				say "$PROG: the proxy DIED during $t (see $RESULTS/proxy/$t.proxylog); restarting it" >&2
				printf '%s\n' "$t" >>"$RESULTS/proxy-crashes.txt"
				rc=250
				start_proxy
			fi
		fi
		printf '%s\t%s\t%s\n' "$t" "$rc" "$((SECONDS - t0))" >>"$RESULTS/$lane.rc"
		n=$((n + 1))
		((rc == 0)) && pass=$((pass + 1))
		if ((n % 50 == 0)); then say "  $lane pass: $n/${#TESTS[@]} run, $pass passed"; fi
	done
	if ((rc != 0)); then reset_db "${ADDR[$lane]}" || true; fi
	say "  $lane pass done: ${#TESTS[@]} tests, $pass passed, $((SECONDS - started)) s"
}

status_of() { # rc -> word
	case $1 in
	0) printf PASS ;;
	124 | 137) printf TIMEOUT ;;
	250) printf CRASH ;;
	*) printf 'FAIL(%s)' "$1" ;;
	esac
}

excerpt() { # log: the lines that say why a test failed (stdout and stderr interleave)
	local f=$1 lines
	lines=$(grep -E 'check failed|\]\[[0-9]+\]|failed|[Ee]rror|expected|Lost connection' "$f" |
		grep -vE '^MySQL error 0: *$|\(expected: `' | tail -n 3)
	[[ -n $lines ]] || lines=$(grep -v '^[[:space:]]*$' "$f" | tail -n 3)
	printf '%s\n' "$lines" | sed 's/^[[:space:]]*/      /' | cut -c1-220
}

guess_cause() { # test: a hint from known failure signatures (a guess; read the log)
	local log=$RESULTS/proxy/$1.log plog=$RESULTS/proxy/$1.proxylog
	if grep -q 'does not support SET GLOBAL' "$log"; then
		if grep -qiE "Access denied for user '$CT_USER'.*\(using password: YES\)" "$plog" 2>/dev/null; then
			printf 'COM_CHANGE_USER rejected; SET GLOBAL refused'
		else
			printf 'SET GLOBAL refused (by design; SET ... = @@global.x is refused as well)'
		fi
	elif grep -q "Bulk operation" "$log"; then
		printf 'greeting lacks MariaDB STMT_BULK_OPERATIONS capability (array binding)'
	elif grep -q 'Unknown database' "$log"; then
		printf 'unknown or corrupted session schema'
	elif grep -qiE "Access denied for user '$CT_USER'.*\(using password: YES\)" "$log" "$plog" 2>/dev/null ||
		grep -q 'mysql_change_user' "$log"; then
		printf 'COM_CHANGE_USER rejected (connection then closed)'
	elif grep -q 'handshake failed.*Access denied' "$plog" 2>/dev/null; then
		printf 'login as a user created on the server (not in the proxy config)'
	elif grep -q 'Lost connection\|server has gone away' "$log"; then
		printf 'connection lost'
	else
		printf 'see log'
	fi
}

summarize() {
	local t d p out=$RESULTS/summary.txt
	local -A DRC=() PRC=()
	while IFS=$'\t' read -r t d _; do DRC[$t]=$d; done <"$RESULTS/direct.rc"
	while IFS=$'\t' read -r t p _; do PRC[$t]=$p; done <"$RESULTS/proxy.rc"
	local total=${#TESTS[@]} pd=0 pp=0 both=0 onlyd=0 onlyp=0 none=0
	local -a reg=() gain=()
	local -A KNOWN=()
	local k c
	if [[ -f $HERE/known-failures.tsv ]]; then
		while IFS=$'\t' read -r k c _; do
			[[ -z $k || $k == \#* ]] || KNOWN[$k]=$c
		done <"$HERE/known-failures.tsv"
	fi
	: >"$RESULTS/results.tsv"
	for t in "${TESTS[@]}"; do
		d=${DRC[$t]:-255} p=${PRC[$t]:-255}
		printf '%s\t%s\t%s\n' "$t" "$(status_of "$d")" "$(status_of "$p")" >>"$RESULTS/results.tsv"
		((d == 0)) && pd=$((pd + 1))
		((p == 0)) && pp=$((pp + 1))
		if ((d == 0 && p == 0)); then both=$((both + 1))
		elif ((d == 0)); then onlyd=$((onlyd + 1)); reg+=("$t")
		elif ((p == 0)); then onlyp=$((onlyp + 1)); gain+=("$t")
		else none=$((none + 1)); fi
	done
	{
		say ""
		say "==== mariadb-client-test: direct ${ADDR[direct]} vs proxy $PROXY_ADDR (backend ${ADDR[proxy]})"
		say "total tests:                  $total"
		say "passed directly:              $pd"
		say "passed through the proxy:     $pp"
		say "pass direct, fail via proxy:  $onlyd"
		say "fail direct, pass via proxy:  $onlyp${gain[*]:+  (${gain[*]})}"
		say "fail both:                    $none"
		local fixed=()
		for t in "${TESTS[@]}"; do
			[[ -n ${KNOWN[$t]:-} && ${PRC[$t]:-1} == 0 ]] && fixed+=("$t")
		done
		if ((${#fixed[@]})); then
			say "listed in known-failures.tsv but now passing via proxy (remove them there): ${fixed[*]}"
		fi
		if [[ -s $RESULTS/proxy-crashes.txt ]]; then
			say "proxy crashed during:         $(tr '\n' ' ' <"$RESULTS/proxy-crashes.txt")"
		fi
		if ((${#reg[@]})); then
			say ""
			say "Tests that pass directly but fail through the proxy (last lines of RESULTS/proxy/TEST.log):"
			for t in "${reg[@]}"; do
				if [[ -n ${KNOWN[$t]:-} ]]; then
					say "  $t  $(status_of "${PRC[$t]}")  [known: ${KNOWN[$t]}]"
				else
					say "  $t  $(status_of "${PRC[$t]}")  [NEW; likely: $(guess_cause "$t")]"
				fi
				excerpt "$RESULTS/proxy/$t.log"
			done
		fi
		say ""
		say "logs: $RESULTS/{direct,proxy}/TEST.log, $RESULTS/proxy/TEST.proxylog; table: $RESULTS/results.tsv"
	} | tee "$out"
	((onlyd == 0))
}

# ---------------------------------------------------------------- main
[[ $RESULTS == /tmp/* || $RESULTS == /var/tmp/* || ! -e $RESULTS || -f $RESULTS/.client-test ]] ||
	die "RESULTS=$RESULTS exists and was not made by this script: not wiping it"
rm -rf "$RESULTS"
mkdir -p "$RESULTS"
touch "$RESULTS/.client-test"
ensure_suite

mapfile -t ALL < <(mariadb-client-test --no-defaults -T 2>/dev/null | grep -E '^[a-z][a-z0-9_]*$')
((${#ALL[@]} > 0)) || die "mariadb-client-test -T listed no tests"
if (($#)); then
	for t in "$@"; do
		[[ " ${ALL[*]} " == *" $t "* ]] || die "unknown test '$t' (see: mariadb-client-test -T)"
	done
	TESTS=("$@")
else
	TESTS=("${ALL[@]}")
fi
say "mariadb-client-test: ${#TESTS[@]} of ${#ALL[@]} tests, each in its own process (timeout ${TIMEOUT}s), JOBS=$JOBS; results in $RESULTS"

setup_servers
wait_sql "${ADDR[direct]}" 30 || die "cannot log in to ${ADDR[direct]} as '$CT_USER'"
setup_proxy

if ((JOBS == 2)); then
	run_pass direct "${ADDR[direct]}" &
	DIRECT_JOB=$!
	run_pass proxy "$PROXY_ADDR"
	wait "$DIRECT_JOB"
	DIRECT_JOB=
else
	run_pass direct "${ADDR[direct]}"
	run_pass proxy "$PROXY_ADDR"
fi
summarize || exit 1
