package xa

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/proxy/backend"
	"github.com/shardgate/shardgate/proxy/wire"
)

// Outcome counts what a recovery pass did.
type Outcome struct {
	Committed, RolledBack int
	Forgotten             int // decisions whose branches were all committed already
}

// Recover resolves the prepared branches of this coordinator's
// transactions (of this run or an earlier one) that are not running: it commits those the log
// decided to commit and rolls back the rest (nobody decided: presumed
// abort). A branch is never resolved against the log. Decisions with no
// branch left prepared anywhere are then forgotten. It stops at the first
// data host it cannot reach (an undecided state is left for the next pass).
func Recover(ctx context.Context, hosts []*backend.DataHost, co *Coordinator) (Outcome, error) {
	var out Outcome
	var alive map[string]bool
	if co.Alive != nil {
		var err error
		if alive, err = co.Alive(ctx); err != nil {
			return out, err
		}
	}
	prepared := map[string]bool{}
	for _, h := range hosts {
		if err := recoverHost(ctx, h, co, alive, prepared, &out); err != nil {
			return out, err
		}
	}
	pending, err := co.Log.Pending()
	if err != nil {
		return out, err
	}
	for _, g := range pending {
		if co.Owns(g, alive) && !prepared[g] && !co.Running(g) {
			co.Log.Done(g)
			out.Forgotten++
		}
	}
	return out, nil
}

type branch struct{ gtrid, bqual string }

func recoverHost(ctx context.Context, h *backend.DataHost, co *Coordinator, alive, prepared map[string]bool, out *Outcome) error {
	p, err := h.PrimaryWait(ctx, deadline(ctx))
	if err != nil {
		return err
	}
	c, err := p.Pool.Get(ctx, backend.Plain, nil, 0)
	if err != nil {
		return err
	}
	defer p.Pool.Put(c)
	if err := c.SyncDefaults(c.State.Schema); err != nil {
		return err
	}
	var found []branch
	err = c.Query("XA RECOVER", func(_ []wire.ColumnRef, v [][]byte) error {
		// formatID, gtrid_length, bqual_length, data
		f, _ := strconv.Atoi(string(v[0]))
		gl, _ := strconv.Atoi(string(v[1]))
		bl, _ := strconv.Atoi(string(v[2]))
		if f != FormatID || gl+bl > len(v[3]) {
			return nil
		}
		g := string(v[3][:gl])
		if co.Owns(g, alive) {
			found = append(found, branch{g, string(v[3][gl : gl+bl])})
		}
		return nil
	}, nil)
	if err != nil {
		return err
	}
	for _, b := range found {
		if co.Running(b.gtrid) {
			continue
		}
		xid := backend.QuoteString(b.gtrid) + "," + backend.QuoteString(b.bqual) + "," + strconv.Itoa(FormatID)
		commit, err := co.Log.Resolve(b.gtrid)
		if err != nil {
			return err
		}
		verb := "XA ROLLBACK "
		if commit {
			prepared[b.gtrid] = true
			verb = "XA COMMIT "
		}
		if _, err := c.Exec(verb + xid); err != nil {
			if isUnknownXID(err) {
				continue // resolved meanwhile (by its coordinator or another node)
			}
			return err
		}
		if commit {
			out.Committed++
		} else {
			out.RolledBack++
		}
	}
	return nil
}

// isUnknownXID: ER_XAER_NOTA. A branch still attached to its (dying)
// coordinator's connection answers so too; it is listed again next pass.
func isUnknownXID(err error) bool {
	var me *mysql.MyError
	return errors.As(err, &me) && me.Code == 1397
}

// deadline is the context's deadline, or a minute from now.
func deadline(ctx context.Context) time.Time {
	if d, ok := ctx.Deadline(); ok {
		return d
	}
	return time.Now().Add(time.Minute)
}
