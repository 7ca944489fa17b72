// Command xmlflood starts bin/hellogw on a free port, sends it 40
// adversarial 1 MiB envelopes at once (empty elements, many attributes,
// deep nesting, long names; internal/xmlflood), several rounds, while
// normal calls must still answer, then prints the gateway's peak resident
// memory. `make bench` runs it; the same flood is asserted under 256 MiB by
// TestXMLFloodMemory.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/hellogw/hellogw/internal/xmlflood"
)

func main() {
	bin := flag.String("bin", "bin/hellogw", "the gateway binary")
	conc := flag.Int("c", 40, "envelopes sent at once")
	rounds := flag.Int("rounds", 5, "rounds of c envelopes")
	flag.Parse()
	log.SetFlags(0)

	dir, err := os.MkdirTemp("", "xmlflood")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	cmd := exec.Command(*bin, "-addr", "127.0.0.1:0", "-log-format", "json", "-store", filepath.Join(dir, "hellogw.db"))
	stderr, err := cmd.StderrPipe()
	if err != nil {
		log.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()

	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var rec struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "listening" {
				addr <- rec.Addr
			}
		}
	}()
	var base string
	select {
	case a := <-addr:
		base = "http://" + a
	case <-time.After(30 * time.Second):
		log.Fatal("hellogw did not start listening")
	}

	before, _ := xmlflood.PeakRSS(cmd.Process.Pid)
	start := time.Now()
	res, err := xmlflood.Run(context.Background(), base, 1<<20, *conc, *rounds)
	if err != nil {
		log.Fatal(err)
	}
	peak, err := xmlflood.PeakRSS(cmd.Process.Pid)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("xmlflood: %d x %d adversarial 1 MiB envelopes in %v, answers by status %v; %d normal calls answered meanwhile (slowest %v)\n",
		*rounds, *conc, time.Since(start).Round(time.Millisecond), res.Statuses, res.Normal, res.Slowest.Round(time.Millisecond))
	fmt.Printf("xmlflood: peak RSS %.1f MiB (idle %.1f MiB; the bound is 256 MiB)\n", float64(peak)/(1<<20), float64(before)/(1<<20))
}
