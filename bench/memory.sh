#!/usr/bin/env bash
# bench/memory.sh — the proxy's memory while it merges big results across
# shards: a table of 4 shards × ROWS_PER_SHARD rows (default 250,000) over
# the two data hosts, queried through shardgate with deep OFFSETs, a full
# scatter and a grouped merge. For each query it prints the proxy's peak
# RSS growth over its idle RSS (the goal: under 64 MiB). Then it opens
# IDLE_CONNS (default 5000) client connections that stay idle and prints
# what they cost the proxy (the goal: under 200 MiB).
#
#   bench/memory.sh                      # 4 × 250k rows
#   ROWS_PER_SHARD=1000000 bench/memory.sh
set -euo pipefail
PROG=memory.sh
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

ROWS_PER_SHARD=${ROWS_PER_SHARD:-250000}
IDLE_CONNS=${IDLE_CONNS:-5000}
PORT=${PORT:-3393}
need_pos ROWS_PER_SHARD
ensure_packages mariadb:mariadb-client
export PATH="$PATH:/usr/local/go/bin"

BENCH_TMP=$(mktemp -d /tmp/shardgate-memory.XXXXXX)
SG_PID=
cleanup() {
	[[ -n ${IDLE_PID:-} ]] && kill "$IDLE_PID" 2>/dev/null && wait "$IDLE_PID" 2>/dev/null
	[[ -n $SG_PID ]] && kill "$SG_PID" 2>/dev/null && wait "$SG_PID" 2>/dev/null
	rm -rf "$BENCH_TMP"
}
trap cleanup EXIT

"$REPO_DIR/scripts/topology.sh" up >/dev/null
(cd "$REPO_DIR" && go build -o "$BENCH_TMP/shardgate" ./cmd/shardgate && go build -o "$BENCH_TMP/idleconns" ./bench/idleconns)

cat >"$BENCH_TMP/shardgate.yaml" <<EOF
listen: 127.0.0.1:$PORT
max_connections: $((IDLE_CONNS + 100))
users: [{name: bench, password: bench, schemas: [mem]}]
data_hosts:
  - {name: dh0, user: sg, password: sg, primary: 127.0.0.1:13306}
  - {name: dh1, user: sg, password: sg, primary: 127.0.0.1:13307}
data_nodes:
  - {name: m0, host: dh0, database: memb_0}
  - {name: m1, host: dh1, database: memb_1}
schemas:
  - name: mem
    default_node: m0
    tables:
      big: {column: id, algorithm: mod, shards: 4, nodes: [m0, m1]}
EOF
"$BENCH_TMP/shardgate" --config "$BENCH_TMP/shardgate.yaml" >"$BENCH_TMP/shardgate.log" 2>&1 &
SG_PID=$!
for _ in $(seq 100); do
	mariadb --no-defaults -h127.0.0.1 -P"$PORT" -ubench -pbench mem -e "SELECT 1" >/dev/null 2>&1 && break
	sleep 0.1
done

proxy() { mariadb --no-defaults --quick -N -h127.0.0.1 -P"$PORT" -ubench -pbench mem "$@"; }
direct() { mariadb --no-defaults -N -h127.0.0.1 -P"$1" -usg -psg -e "$2"; }

proxy -e "CREATE TABLE IF NOT EXISTS big (id BIGINT PRIMARY KEY, v INT NOT NULL, pad CHAR(60) NOT NULL)"
# Load each physical table directly: shard i holds ids with id % 4 = i.
want=$((ROWS_PER_SHARD * 4))
have=$(proxy -e "SELECT COUNT(*) FROM big")
if [[ $have != "$want" ]]; then
	note "loading 4 × $ROWS_PER_SHARD rows"
	proxy -e "TRUNCATE TABLE big"
	loaders=()
	for i in 0 1 2 3; do
		port=$((i % 2 == 0 ? 13306 : 13307)) db=memb_$((i % 2))
		direct "$port" "INSERT INTO $db.big_$i SELECT seq*4+$i, (seq*7919+$i) % 1000003, REPEAT('x', 60) FROM $db.seq_0_to_$((ROWS_PER_SHARD - 1))" &
		loaders+=($!)
	done
	wait "${loaders[@]}"
fi

rss_kib() { awk -v k="$1" '$1 == k":" {print $2}' "/proc/$SG_PID/status"; }

printf '%-70s %10s %10s %10s %8s\n' "query (through shardgate, $((want)) rows in 4 shards)" "rows" "idle MiB" "peak MiB" "growth"
run() {
	local q=$1
	echo 5 >"/proc/$SG_PID/clear_refs" # reset the peak (VmHWM) to the current RSS
	local idle rows peak
	idle=$(rss_kib VmRSS)
	rows=$(proxy -e "$q" | wc -l)
	peak=$(rss_kib VmHWM)
	printf '%-70s %10s %10.1f %10.1f %7.1fM\n' "$q" "$rows" "$(bc -l <<<"$idle/1024")" "$(bc -l <<<"$peak/1024")" "$(bc -l <<<"($peak-$idle)/1024")"
}
run "SELECT id, v FROM big ORDER BY v, id LIMIT 100000, 10"
run "SELECT id, v FROM big ORDER BY v, id LIMIT 1000000, 10"
run "SELECT id FROM big ORDER BY id LIMIT $((want - 10)), 10"
run "SELECT * FROM big ORDER BY v DESC, id LIMIT 10"
run "SELECT * FROM big"
run "SELECT v % 1000 AS g, COUNT(*), SUM(id) FROM big GROUP BY g ORDER BY g LIMIT 5"
run "SELECT DISTINCT v % 5000 FROM big ORDER BY 1 LIMIT 3"

# Idle client connections: each has done one statement, then waits.
if [[ $IDLE_CONNS -gt 0 ]]; then
	ulimit -n $((IDLE_CONNS * 2 + 1000)) 2>/dev/null || note "cannot raise the open-files limit; $IDLE_CONNS connections may fail"
	before=$(rss_kib VmRSS)
	"$BENCH_TMP/idleconns" -dsn "bench:bench@tcp(127.0.0.1:$PORT)/mem" -n "$IDLE_CONNS" >"$BENCH_TMP/idle.out" 2>&1 &
	IDLE_PID=$!
	for _ in $(seq 600); do
		grep -q '^open' "$BENCH_TMP/idle.out" && break
		kill -0 "$IDLE_PID" 2>/dev/null || { cat "$BENCH_TMP/idle.out"; die "idleconns failed"; }
		sleep 0.1
	done
	sleep 2
	after=$(rss_kib VmRSS)
	printf '%-70s %10s %10.1f %10.1f %7.1fM  (%.1f KiB a connection)\n' "$IDLE_CONNS idle client connections ($(cut -d' ' -f3 "$BENCH_TMP/idle.out") to open)" "-" \
		"$(bc -l <<<"$before/1024")" "$(bc -l <<<"$after/1024")" "$(bc -l <<<"($after-$before)/1024")" "$(bc -l <<<"($after-$before)/$IDLE_CONNS")"
fi
