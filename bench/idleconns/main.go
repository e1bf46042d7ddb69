// Command idleconns opens N client connections to a MySQL server (or
// shardgate), runs one statement on each, then keeps them all open and idle
// until killed: bench/memory.sh measures what idle connections cost the
// proxy.
//
//	idleconns -dsn 'app:app@tcp(127.0.0.1:3307)/shop' -n 5000
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	_ "github.com/go-sql-driver/mysql"
)

func main() {
	dsn := flag.String("dsn", "", "go-sql-driver DSN")
	n := flag.Int("n", 5000, "connections")
	par := flag.Int("parallel", 50, "connections opened at once")
	flag.Parse()
	db, err := sql.Open("mysql", *dsn)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	db.SetMaxOpenConns(*n)
	db.SetMaxIdleConns(*n)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	conns := make([]*sql.Conn, *n)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	sem := make(chan struct{}, *par)
	start := time.Now()
	for i := range conns {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer func() { <-sem; wg.Done() }()
			c, err := db.Conn(context.Background())
			if err == nil {
				var one int
				err = c.QueryRowContext(context.Background(), "SELECT 1").Scan(&one)
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = err
			}
			conns[i] = c
		}(i)
	}
	wg.Wait()
	if firstErr != nil {
		fmt.Fprintln(os.Stderr, "idleconns:", firstErr)
		os.Exit(1)
	}
	// The line bench/memory.sh waits for.
	fmt.Printf("open %d %.1fs\n", *n, time.Since(start).Seconds())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	for _, c := range conns {
		c.Close()
	}
}
