// Command bareserver is the load test's limit: plain net/http answering
// every request with a constant body, the least any Go HTTP server can do,
// with the timeouts and header limit a public server must have and
// bin/hellogw has (main.go): without them a bare server is 10–15 % faster,
// and the comparison would be unfair to the gateway.
package main

import (
	"flag"
	"log"
	"net/http"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18181", "listen address")
	flag.Parse()
	body := []byte(`{"greeting":"Hello, Ada!"}`)
	srv := &http.Server{
		Addr: *addr,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(body)
		}),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	log.Fatal(srv.ListenAndServe())
}
