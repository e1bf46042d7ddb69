package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/shardgate/shardgate/conf"
	"github.com/shardgate/shardgate/proxy/admin"
	"github.com/shardgate/shardgate/proxy/server"
	"github.com/shardgate/shardgate/proxy/snapshot"
)

// startAdmin starts what operates the proxy: the statistics' sampler, the
// admin console on cfg.Admin, Prometheus metrics on cfg.Metrics, and a
// reload of the config file on SIGHUP. The returned function stops them
// and closes the running cluster.
func startAdmin(cfg *conf.Config, path string, holder *snapshot.Holder, srv *server.Server, log *slog.Logger) (*admin.Manager, func(), error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	st := holder.Load().Stats
	mgr := admin.NewManager(log, holder, path, text, st)
	con := admin.New(log, holder, srv.Env().Registry, st, mgr, srv)
	quit := make(chan struct{})
	go st.Run(quit)
	stops := []func(){func() { close(quit) }}
	stopAll := func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
		mgr.Close()
	}
	if cfg.Admin != "" {
		ln, err := net.Listen("tcp", cfg.Admin)
		if err != nil {
			stopAll()
			return nil, nil, fmt.Errorf("admin console: %w", err)
		}
		go func() {
			if err := con.Serve(ln); err != nil {
				log.Error("admin console stopped", "err", err)
			}
		}()
		stops = append(stops, con.Shutdown)
		log.Info("admin console listening", "addr", ln.Addr().String())
	}
	if cfg.Metrics != "" {
		ln, err := net.Listen("tcp", cfg.Metrics)
		if err != nil {
			stopAll()
			return nil, nil, fmt.Errorf("metrics: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", con.MetricsHandler())
		hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("metrics endpoint stopped", "err", err)
			}
		}()
		stops = append(stops, func() { _ = hs.Close() })
		log.Info("metrics listening", "addr", ln.Addr().String(), "path", "/metrics")
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		for range hup {
			if _, err := mgr.Reload("(SIGHUP)", "SIGHUP", false); err != nil {
				log.Error("reload on SIGHUP refused", "err", err)
			}
		}
	}()
	stops = append(stops, func() { signal.Stop(hup); close(hup) })
	return mgr, stopAll, nil
}
