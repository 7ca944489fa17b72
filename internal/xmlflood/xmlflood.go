// Package xmlflood sends the adversarial SOAP requests of issue #8 to a
// running gateway: envelopes of up to 1 MiB whose parse would cost far
// more than their size (empty elements, many attributes, deep nesting,
// long names), many at once, while a normal call must still answer. The
// bodies are made at run time, never stored. It serves both the test that
// asserts the memory bound and `make bench`, which prints the figure.
package xmlflood

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Bodies returns one body of each adversarial kind, each size bytes or a
// little less, by name.
func Bodies(size int) map[string][]byte {
	const (
		head = `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><h:sayHello xmlns:h="urn:examples:helloservice"><firstName>`
		tail = `</firstName></h:sayHello></s:Body></s:Envelope>`
	)
	fill := func(open, unit, closeUnit, end string) []byte {
		var b bytes.Buffer
		b.WriteString(head + open)
		n := (size - len(head) - len(tail) - len(open) - len(end)) / (len(unit) + len(closeUnit))
		for range n {
			b.WriteString(unit)
		}
		for range n {
			b.WriteString(closeUnit)
		}
		b.WriteString(end + tail)
		return b.Bytes()
	}
	attrs := func() []byte {
		var b bytes.Buffer
		b.WriteString(head + "<a")
		for i := 0; b.Len() < size-len(tail)-32; i++ {
			b.WriteString(" a" + strconv.Itoa(i) + `=""`)
		}
		b.WriteString("/>" + tail)
		return b.Bytes()
	}
	return map[string][]byte{
		"empty-elements": fill("", "<a/>", "", ""),
		"attributes":     attrs(),
		"nesting":        fill("", "<a>", "</a>", ""),
		"long-name":      fill("<", "a", "", "/>"),
	}
}

// Result is what a flood saw.
type Result struct {
	Statuses map[int]int   // adversarial answers by HTTP status
	Normal   int           // normal calls answered "Hello, Ada!" during the flood
	Slowest  time.Duration // the slowest of those normal calls
}

// Run sends every body of Bodies(size) concurrency times at once, in
// rounds, to the SOAP port at base, and meanwhile makes normal sayHello
// calls one after another until the flood is over.
func Run(ctx context.Context, base string, size, concurrency, rounds int) (Result, error) {
	bodies := Bodies(size)
	kinds := make([][]byte, 0, len(bodies))
	for _, b := range bodies {
		kinds = append(kinds, b)
	}
	res := Result{Statuses: map[int]int{}}
	var mu sync.Mutex
	var firstErr error
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if firstErr == nil {
			firstErr = err
		}
	}

	done := make(chan struct{})
	normalDone := make(chan struct{})
	go func() {
		defer close(normalDone)
		for first := true; ; first = false {
			select {
			case <-done:
				if !first { // at least one call, however late the flood lets it start
					return
				}
			default:
			}
			start := time.Now()
			status, body, err := post(ctx, base, []byte(normal))
			if err != nil || status != http.StatusOK || !bytes.Contains(body, []byte("Hello, Ada!")) {
				fail(fmt.Errorf("a normal call during the flood: status %d, err %v", status, err))
				return
			}
			mu.Lock()
			res.Normal++
			res.Slowest = max(res.Slowest, time.Since(start))
			mu.Unlock()
		}
	}()

	for range rounds {
		var wg sync.WaitGroup
		for i := range concurrency {
			wg.Go(func() {
				status, _, err := post(ctx, base, kinds[i%len(kinds)])
				if err != nil {
					fail(err)
					return
				}
				mu.Lock()
				res.Statuses[status]++
				mu.Unlock()
			})
		}
		wg.Wait()
	}
	close(done)
	<-normalDone
	return res, firstErr
}

const normal = `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><h:sayHello xmlns:h="urn:examples:helloservice"><firstName>Ada</firstName></h:sayHello></s:Body></s:Envelope>`

func post(ctx context.Context, base string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/SayHello/", bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	req.Header.Set("SOAPAction", `"sayHello"`)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, out, err
}

// PeakRSS returns the peak resident set size of process pid, in bytes:
// VmHWM in /proc/pid/status (Linux, proc(5)).
func PeakRSS(pid int) (int64, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
}
