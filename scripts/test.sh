#!/usr/bin/env bash
# Runs the whole test suite: unit tests (no server needed), then the
# integration tests against the local MariaDB topology (started here).
#   scripts/test.sh            everything
#   scripts/test.sh -run Kill  only matching integration tests
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"

echo "== unit tests"
go vet ./...
go vet -tags integration ./integration/
go test -race -count=1 ./...

echo "== topology"
scripts/topology.sh up

echo "== integration tests"
# -v shows each test's figures (counts, RSS); the driver's own warnings are noise.
SG_SKIP_TOPOLOGY=1 go test -tags integration -count=1 -timeout 75m -v "$@" ./integration/ 2>&1 |
	grep --line-buffered -v '^\[mysql\] ' | tee /tmp/shardgate-integration.log
