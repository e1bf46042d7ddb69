package xa

import (
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
)

// Fault points: with SG_FAULT=<point>[:N] in its environment, the proxy
// kills itself (SIGKILL, as kill -9 would) when a distributed commit
// reaches the point (the Nth time, default the first). For the
// crash-recovery tests only.
const (
	FaultAfterPrepare     = "xa-after-prepare"      // every branch prepared, no decision yet
	FaultAfterDecision    = "xa-after-decision"     // commit decision on disk, no branch committed
	FaultAfterFirstCommit = "xa-after-first-commit" // one branch told to commit, the others prepared
)

var (
	faultPoint, faultAt = parseFault(os.Getenv("SG_FAULT"))
	faultSeen           atomic.Int64
)

func parseFault(v string) (string, int64) {
	point, n, ok := strings.Cut(v, ":")
	if !ok {
		return point, 1
	}
	k, err := strconv.ParseInt(n, 10, 64)
	if err != nil || k < 1 {
		k = 1
	}
	return point, k
}

// Fault kills the process if the environment asks for it at this point.
func Fault(point string) {
	if faultPoint == "" || faultPoint != point {
		return
	}
	if faultSeen.Add(1) == faultAt {
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // the signal is on its way
	}
}
