# scripts/lib.sh — helpers shared by topology.sh and etcd.sh (sourced; they
# set PROG and LOCK_FILE and define running_pid).
# shellcheck shell=bash

say() { printf '%s\n' "$*"; }
note() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 1; }
usage_error() { printf '%s: %s\n(run "%s help" for usage)\n' "$PROG" "$*" "$PROG" >&2; exit 2; }
find_bin() { # name -> path, also looking in sbin dirs a non-root PATH may lack
	local p
	p=$(command -v "$1" 2>/dev/null) && { printf '%s' "$p"; return 0; }
	for p in /usr/sbin/$1 /usr/local/sbin/$1 /usr/bin/$1 /usr/local/bin/$1; do
		[[ -x $p ]] && { printf '%s' "$p"; return 0; }
	done
	return 1
}
proc_state() { # pid -> the state letter of /proc/PID/stat (R, S, T, Z, ...)
	local stat
	[[ -r /proc/$1/stat ]] || return 1
	read -r stat <"/proc/$1/stat" 2>/dev/null || return 1
	stat=${stat##*) }
	printf '%s' "${stat%% *}"
}
alive() { # pid -> exists and is not a zombie
	local st
	st=$(proc_state "$1") || return 1
	[[ $st != [ZX] ]]
}
is_running() { running_pid "$1" >/dev/null; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port_owner() {
	local o=
	if command -v ss >/dev/null; then
		o=$(ss -ltnpH "sport = :$1" 2>/dev/null | sed -nE 's/.*users:\(\("([^"]*)",pid=([0-9]+).*/\1 (pid \2)/p' | head -n 1)
	fi
	printf '%s' "${o:-unknown process}"
}
# close_fds: in a subshell about to exec a daemon, close every descriptor above 2.
close_fds() {
	local f fds=()
	for f in /proc/self/fd/*; do fds+=("${f##*/}"); done
	for f in "${fds[@]}"; do
		if ((f > 2)); then eval "exec $f>&-" 2>/dev/null || true; fi
	done
}
print_log_tail() { # file
	[[ -s $1 ]] || return 0
	printf '%s: last lines of %s:\n' "$PROG" "$1" >&2
	tail -n 15 "$1" | sed 's/^/    /' >&2
}
take_lock() {
	mkdir -p "$(dirname "$LOCK_FILE")"
	exec 9>"$LOCK_FILE" || die "cannot open lock file $LOCK_FILE"
	if ! flock -n 9; then
		note "waiting for another $PROG run (lock $LOCK_FILE)"
		flock -w 600 9 || die "another $PROG run holds $LOCK_FILE for more than 600s"
	fi
}
