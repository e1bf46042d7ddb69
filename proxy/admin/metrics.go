package admin

import (
	"bufio"
	"net/http"
	"strconv"
	"time"

	"github.com/shardgate/shardgate/parser"
	"github.com/shardgate/shardgate/proxy/backend"
	"github.com/shardgate/shardgate/proxy/stats"
)

// The Prometheus text exposition format (version 0.0.4), written by hand:
// the counters are atomics already, and a client library would be a
// dependency for a few hundred lines of output.

// MetricsHandler serves /metrics.
func (c *Console) MetricsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		bw := bufio.NewWriterSize(w, 32<<10)
		c.writeMetrics(&promWriter{w: bw})
		_ = bw.Flush()
	})
}

type promWriter struct {
	w   *bufio.Writer
	buf []byte
}

// family writes the HELP and TYPE lines of a metric.
func (p *promWriter) family(name, typ, help string) {
	p.w.WriteString("# HELP " + name + " " + help + "\n# TYPE " + name + " " + typ + "\n")
}

// sample writes one line: name{k="v",...} value. labels alternate keys and values.
func (p *promWriter) sample(name string, value float64, labels ...string) {
	b := append(p.buf[:0], name...)
	if len(labels) > 0 {
		b = append(b, '{')
		for i := 0; i+1 < len(labels); i += 2 {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, labels[i]...)
			b = append(b, '=', '"')
			b = appendEscaped(b, labels[i+1])
			b = append(b, '"')
		}
		b = append(b, '}')
	}
	b = append(b, ' ')
	b = strconv.AppendFloat(b, value, 'g', -1, 64)
	b = append(b, '\n')
	p.w.Write(b)
	p.buf = b
}

func appendEscaped(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			b = append(b, '\\', '\\')
		case '"':
			b = append(b, '\\', '"')
		case '\n':
			b = append(b, '\\', 'n')
		default:
			b = append(b, c)
		}
	}
	return b
}

func (c *Console) writeMetrics(p *promWriter) {
	snap := c.holder.Load()
	p.family("shardgate_uptime_seconds", "gauge", "Seconds since the proxy started.")
	p.sample("shardgate_uptime_seconds", time.Since(c.started).Seconds())
	p.family("shardgate_sessions", "gauge", "Client sessions connected.")
	p.sample("shardgate_sessions", float64(c.registry.Count()))
	p.family("shardgate_config_reloads_total", "counter", "Configurations swapped in since start (RELOAD, rule edits, rollbacks).")
	p.sample("shardgate_config_reloads_total", float64(c.mgr.Reloads()))
	p.family("shardgate_config_version", "gauge", "Version number of the running configuration (0: not recorded).")
	p.sample("shardgate_config_version", float64(c.mgr.Current()))

	if st := c.stats; st != nil {
		p.family("shardgate_statements_total", "counter", "Statements answered, by kind.")
		for k := parser.KindOther; k <= parser.KindEmpty; k++ {
			if n := st.Kind(k).Count.Load(); n > 0 {
				p.sample("shardgate_statements_total", float64(n), "kind", k.String())
			}
		}
		p.family("shardgate_statement_errors_total", "counter", "Statements answered with an error, by kind.")
		for k := parser.KindOther; k <= parser.KindEmpty; k++ {
			if n := st.Kind(k).Errors.Load(); n > 0 {
				p.sample("shardgate_statement_errors_total", float64(n), "kind", k.String())
			}
		}
		p.family("shardgate_statement_duration_seconds", "histogram", "Statement latency in the proxy, by kind.")
		for k := parser.KindOther; k <= parser.KindEmpty; k++ {
			ks := st.Kind(k)
			count := ks.Count.Load()
			if count == 0 {
				continue
			}
			kind := k.String()
			var cum uint64
			for i, le := range stats.LatencyBuckets {
				cum += ks.Buckets[i].Load()
				p.sample("shardgate_statement_duration_seconds_bucket", float64(cum), "kind", kind, "le", strconv.FormatFloat(le, 'g', -1, 64))
			}
			p.sample("shardgate_statement_duration_seconds_bucket", float64(count), "kind", kind, "le", "+Inf")
			p.sample("shardgate_statement_duration_seconds_sum", float64(ks.Nanos.Load())/1e9, "kind", kind)
			p.sample("shardgate_statement_duration_seconds_count", float64(count), "kind", kind)
		}
		p.family("shardgate_slow_statements_total", "counter", "Statements slower than slow_query.")
		p.sample("shardgate_slow_statements_total", float64(st.Slow.Load()))
		p.family("shardgate_firewall_denied_total", "counter", "Statements the SQL firewall refused.")
		p.sample("shardgate_firewall_denied_total", float64(st.Denied.Load()))
	}

	type srv struct {
		host string
		s    *backend.Server
	}
	var all []srv
	for _, h := range hosts(snap) {
		for _, s := range h.Servers() {
			all = append(all, srv{h.Name, s})
		}
	}
	p.family("shardgate_server_up", "gauge", "1 when the server passed its last health check.")
	for _, x := range all {
		p.sample("shardgate_server_up", b2f(x.s.Up()), "data_host", x.host, "server", x.s.Addr)
	}
	p.family("shardgate_server_role", "gauge", "The server's role (1 for the current one).")
	for _, x := range all {
		role, state := roleState(x.s)
		if state == "offline" {
			role = "offline"
		}
		p.sample("shardgate_server_role", 1, "data_host", x.host, "server", x.s.Addr, "role", role)
	}
	p.family("shardgate_server_replica_lag_seconds", "gauge", "Replica lag (-1: replication stopped or unknown).")
	for _, x := range all {
		if x.s.Role() != backend.RolePrimary {
			p.sample("shardgate_server_replica_lag_seconds", float64(x.s.Lag()), "data_host", x.host, "server", x.s.Addr)
		}
	}
	if c.stats != nil {
		p.family("shardgate_server_statements_total", "counter", "Statements (backend connections handed to statements) per server.")
		for _, x := range all {
			p.sample("shardgate_server_statements_total", float64(c.stats.Server(x.s.Addr).Statements.Load()), "data_host", x.host, "server", x.s.Addr)
		}
		p.family("shardgate_server_errors_total", "counter", "Statements that ended in an error, by the server they used last.")
		for _, x := range all {
			p.sample("shardgate_server_errors_total", float64(c.stats.Server(x.s.Addr).Errors.Load()), "data_host", x.host, "server", x.s.Addr)
		}
	}
	p.family("shardgate_pool_connections", "gauge", "Backend connections of a server's pool, by state (open includes idle).")
	for _, x := range all {
		open, idle := x.s.Pool.Stats()
		p.sample("shardgate_pool_connections", float64(open), "data_host", x.host, "server", x.s.Addr, "state", "open")
		p.sample("shardgate_pool_connections", float64(idle), "data_host", x.host, "server", x.s.Addr, "state", "idle")
	}
	p.family("shardgate_pool_max_connections", "gauge", "The pool's connection limit.")
	for _, x := range all {
		p.sample("shardgate_pool_max_connections", float64(x.s.Pool.Max()), "data_host", x.host, "server", x.s.Addr)
	}
	p.family("shardgate_failovers_total", "counter", "Switches of primary (failovers and planned switches) since start.")
	for _, h := range hosts(snap) {
		p.sample("shardgate_failovers_total", float64(h.Failovers()), "data_host", h.Name)
	}
	p.family("shardgate_data_host_switching", "gauge", "1 while a switch of primary runs.")
	for _, h := range hosts(snap) {
		p.sample("shardgate_data_host_switching", b2f(h.Switching()), "data_host", h.Name)
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
