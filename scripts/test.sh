#!/usr/bin/env bash
# Runs the whole test suite: unit tests (no server needed), then the
# integration tests against the local MariaDB topology (started here).
#   scripts/test.sh            everything
#   scripts/test.sh -run Kill  only matching integration tests
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"

# Debian packages the integration tests run (the topology script installs
# MariaDB's server itself): etcd for cluster mode, HAProxy in front of it,
# MariaDB's test suite.
need=()
command -v mariadb >/dev/null || need+=(mariadb-client)
command -v etcd >/dev/null || [ -x /usr/bin/etcd ] || need+=(etcd-server)
command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ] || need+=(haproxy)
# MariaDB's own test suite: TestRestoreFidelity reads its statements.
[ -d /usr/share/mysql/mysql-test/main ] || need+=(mariadb-test)
if [ ${#need[@]} -gt 0 ]; then
	echo "== installing ${need[*]} (apt-get)"
	sudo=""
	[ "$(id -u)" = 0 ] || sudo=sudo
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null ||
		{ $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null; }
fi

echo "== unit tests"
go vet ./...
go vet -tags integration ./integration/
go test -race -count=1 ./...

echo "== topology"
scripts/topology.sh up

echo "== integration tests"
# -v shows each test's figures (counts, RSS); the driver's own warnings are noise.
log=/tmp/shardgate-integration.log
status=0
SG_SKIP_TOPOLOGY=1 go test -tags integration -count=1 -timeout 75m -v "$@" ./integration/ 2>&1 |
	grep --line-buffered -v '^\[mysql\] ' | tee "$log" || status=$?
if [ "$status" != 0 ]; then
	# The log is long and CI shows its end: repeat each failed test's own
	# output here (its last 60 lines), so the failure is what ends it. A
	# line belongs to the test of the last "=== RUN/CONT/NAME" header (go
	# test -v names the test whenever output switches to another); a
	# subtest's "--- FAIL" comes only when its parent ends. A panic (a
	# timeout too) is repeated with the 40 lines after it.
	echo "== failed tests (whole log: $log)"
	awk '/^=== (RUN|CONT|NAME|PAUSE) / { cur = $3; next }
		/^panic: / { tail = 40 }
		tail > 0 { panics[++np] = $0; tail-- }
		/^[ \t]*--- FAIL: / { failed[++nf] = $3; next }
		/^[ \t]*--- (PASS|SKIP): / { next }
		cur != "" { lines[cur, cnt[cur]++ % 60] = $0 }
		END {
			for (i = 1; i <= nf; i++) {
				t = failed[i]
				print "--- FAIL: " t
				for (j = (cnt[t] > 60 ? cnt[t] - 60 : 0); j < cnt[t]; j++) print lines[t, j % 60]
			}
			for (i = 1; i <= np; i++) print panics[i]
		}' "$log"
fi
exit "$status"
