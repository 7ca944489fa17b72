// Command bareserver is the load test's baseline: plain net/http answering
// every request with a constant body, the least any Go HTTP server can do.
package main

import (
	"flag"
	"log"
	"net/http"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18181", "listen address")
	flag.Parse()
	body := []byte(`{"greeting":"Hello, Ada!"}`)
	log.Fatal(http.ListenAndServe(*addr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})))
}
