// Command loadbench is `make bench`'s load test (issue #10): the gateway
// against the limit, a bare net/http server with the gateway's timeouts
// answering a constant body (scripts/bareserver), in one run.
//
// Every server runs pinned to one core and wrk (one thread) to another,
// with taskset. Each round measures the limit, SOAP 1.1, the limit, JSON,
// the limit, so that every gateway measurement has a limit measurement on
// both sides, and a comparison is dropped when one of its three servers
// did not have its core: less than 90 % busy, or more than 5 % of the
// time waiting for it (/proc/PID/task/*/schedstat). It prints requests/s,
// the server's CPU time per request (/proc/PID/stat), p99 latency at
// -p99-conns connections, the gateway's peak RSS after the runs at -conns
// connections (VmHWM), allocations per request from the Go benchmarks,
// the ratios to the limit, and node-soap's requests/s serving the same
// WSDL. Usage: go run ./scripts/loadbench -bin bin/hellogw
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

var (
	bin       = flag.String("bin", "bin/hellogw", "the gateway binary")
	duration  = flag.Duration("duration", 5*time.Second, "length of one wrk run")
	rounds    = flag.Int("rounds", 5, "rounds of limit, SOAP, limit, JSON, limit: five, because single rounds vary by ±5 % and JSON is within that of its goal")
	conns     = flag.Int("conns", 64, "connections for requests/s and RSS")
	p99Conns  = flag.Int("p99-conns", 32, "connections for the p99 runs")
	node      = flag.Bool("node", true, "measure node-soap too (needs node and npm)")
	goBench   = flag.Bool("gobench", true, "run the Go benchmarks for allocs/op")
	serverCPU = flag.String("server-cpu", "0", "CPU the servers are pinned to")
	wrkCPU    = flag.String("wrk-cpu", "1", "CPU wrk is pinned to")
	profile   = flag.String("profile", "", "directory to write CPU profiles of the gateway under load into (soap.prof, json.prof), read from its -pprof")
)

// The bodies: a PHP SoapClient's envelope (testdata/envelopes/php-wsdl-ada.xml)
// and the JSON twin.
const (
	soapBody = `<?xml version="1.0" encoding="UTF-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ns1="urn:examples:helloservice" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:SOAP-ENC="http://schemas.xmlsoap.org/soap/encoding/" SOAP-ENV:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><SOAP-ENV:Body><ns1:sayHello><firstName xsi:type="xsd:string">Ada</firstName></ns1:sayHello></SOAP-ENV:Body></SOAP-ENV:Envelope>
`
	jsonBody = `{"firstName":"Ada"}`
)

// postLua makes wrk POST the body in file BODY with CONTENT_TYPE (and
// SOAPACTION when set). It has no response() hook: wrk calls Lua for each
// response then, which costs wrk more than the bare server spends on a
// request, so wrk, not the server, would set the limit's pace. Answers
// other than 2xx or 3xx still show, in wrk's own "Non-2xx" count.
const postLua = `local f = assert(io.open(os.getenv("BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = os.getenv("CONTENT_TYPE")
local action = os.getenv("SOAPACTION")
if action and action ~= "" then wrk.headers["SOAPAction"] = action end
`

type target struct {
	name, url, body, contentType, soapAction string
	proc                                     *os.Process
}

type result struct {
	rps, cpuUS, busy, waiting float64
	p99                       time.Duration
	timeouts                  int // wrk's 2 s timeouts: a server starved of its core
}

func (r result) ok() bool { return r.busy >= 0.90 && r.waiting <= 0.05 && r.timeouts == 0 }

func main() {
	flag.Parse()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "loadbench:", err)
		os.Exit(1)
	}
}

func run() error {
	tmp, err := os.MkdirTemp("", "loadbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	var procs []*os.Process
	defer func() {
		for _, p := range procs {
			_ = p.Kill()
			_, _ = p.Wait()
		}
	}()
	for name, body := range map[string]string{"soap": soapBody, "json": jsonBody, "post.lua": postLua} {
		if err := os.WriteFile(filepath.Join(tmp, name), []byte(body), 0o600); err != nil {
			return err
		}
	}

	allocs := map[string]string{}
	if *goBench {
		if allocs, err = goAllocs(); err != nil {
			return err
		}
	}
	if err := command("go", "build", "-o", filepath.Join(tmp, "bareserver"), "./scripts/bareserver").Run(); err != nil {
		return fmt.Errorf("building the bare server: %w", err)
	}
	bareAddr, gwAddr, adminAddr := freeAddr(), freeAddr(), freeAddr()
	start := func(name string, args ...string) (*os.Process, error) {
		cmd := exec.Command("taskset", append([]string{"-c", *serverCPU, name}, args...)...)
		logf, err := os.Create(filepath.Join(tmp, filepath.Base(name)+".log"))
		if err != nil {
			return nil, err
		}
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		procs = append(procs, cmd.Process)
		return cmd.Process, nil
	}
	bareProc, err := start(filepath.Join(tmp, "bareserver"), "-addr", bareAddr)
	if err != nil {
		return err
	}
	gwProc, err := start(*bin, "-addr", gwAddr, "-admin-addr", adminAddr, "-pprof", "-log-format", "json", "-store", filepath.Join(tmp, "oauth.db"))
	if err != nil {
		return err
	}
	if err := waitReady("http://"+bareAddr+"/", "http://"+gwAddr+"/readyz"); err != nil {
		return err
	}
	bare := &target{name: "limit", url: "http://" + bareAddr + "/", body: "json", contentType: "application/json", proc: bareProc}
	soap := &target{name: "SOAP 1.1", url: "http://" + gwAddr + "/SayHello/", body: "soap", contentType: "text/xml; charset=utf-8", soapAction: `"sayHello"`, proc: gwProc}
	jsn := &target{name: "JSON", url: "http://" + gwAddr + "/sayHello", body: "json", contentType: "application/json", proc: gwProc}

	loadFor := func(t *target, c int, d time.Duration) (result, error) { return load(tmp, t, c, d) }
	for _, t := range []*target{bare, soap, jsn} { // warm up
		if _, err := loadFor(t, *conns, time.Second); err != nil {
			return err
		}
	}

	type cmp struct {
		target            string
		before, gw, after result
	}
	var cmps []cmp
	fmt.Printf("%d rounds of %s at %d connections; servers on CPU %s, wrk on CPU %s; load before: %s\n",
		*rounds, *duration, *conns, *serverCPU, *wrkCPU, loadavg())
	fmt.Printf("%-6s %-9s %12s %10s %6s %6s  %s\n", "round", "target", "requests/s", "CPU µs/req", "busy", "wait", "")
	for r := 1; r <= *rounds; r++ {
		prev, err := loadFor(bare, *conns, *duration)
		if err != nil {
			return err
		}
		printRow(r, bare.name, prev)
		for _, t := range []*target{soap, jsn} {
			gw, err := loadFor(t, *conns, *duration)
			if err != nil {
				return err
			}
			printRow(r, t.name, gw)
			next, err := loadFor(bare, *conns, *duration)
			if err != nil {
				return err
			}
			printRow(r, bare.name, next)
			cmps = append(cmps, cmp{target: t.name, before: prev, gw: gw, after: next})
			prev = next
		}
	}
	rss := vmHWM(gwProc.Pid)

	p99 := map[string][]time.Duration{}
	for range *rounds {
		for _, t := range []*target{bare, soap, jsn} {
			res, err := loadFor(t, *p99Conns, *duration)
			if err != nil {
				return err
			}
			if res.ok() {
				p99[t.name] = append(p99[t.name], res.p99)
			}
		}
	}

	if *profile != "" {
		for _, t := range []*target{soap, jsn} {
			name := map[*target]string{soap: "soap.prof", jsn: "json.prof"}[t]
			if err := profileUnder(filepath.Join(*profile, name), "http://"+adminAddr, t, loadFor); err != nil {
				return err
			}
		}
	}

	var nodeRPS []float64
	if *node {
		if nodeRPS, err = nodeSoap(tmp, start, loadFor); err != nil {
			return err
		}
	}

	fmt.Printf("\nload after: %s\n\n", loadavg())
	fmt.Printf("%-9s %10s %12s %10s %10s %9s %s\n", "target", "ratio", "requests/s", "CPU µs/req", "p99", "allocs/op", "goal")
	limits := []float64{}
	limitCPU := []float64{}
	for _, c := range cmps {
		limits = append(limits, c.before.rps, c.after.rps)
		limitCPU = append(limitCPU, c.before.cpuUS, c.after.cpuUS)
	}
	fmt.Printf("%-9s %10s %12.0f %10.1f %10s %9s\n", "limit", "1", median(limits), median(limitCPU), showDur(medianDur(p99["limit"])), allocs["BenchmarkBaseline"])
	verdicts := []string{}
	for _, t := range []struct {
		name, bench string
		goal        float64
	}{{"SOAP 1.1", "BenchmarkSOAP11", 0.70}, {"JSON", "BenchmarkJSON", 0.80}} {
		var ratios, rps, cpu []float64
		dropped := 0
		for _, c := range cmps {
			if c.target != t.name {
				continue
			}
			if !c.before.ok() || !c.gw.ok() || !c.after.ok() {
				dropped++
				continue
			}
			ratios = append(ratios, c.gw.rps/((c.before.rps+c.after.rps)/2))
			rps = append(rps, c.gw.rps)
			cpu = append(cpu, c.gw.cpuUS)
		}
		if len(ratios) == 0 {
			fmt.Printf("%-9s every comparison dropped: the servers did not have their core\n", t.name)
			verdicts = append(verdicts, t.name+" ratio: not measured")
			continue
		}
		slices.Sort(ratios)
		fmt.Printf("%-9s %10s %12.0f %10.1f %10s %9s ≥ %.2f× (%d kept, %d dropped)\n", t.name,
			fmt.Sprintf("%.2f–%.2f", ratios[0], ratios[len(ratios)-1]), median(rps), median(cpu),
			showDur(medianDur(p99[t.name])), allocs[t.bench], t.goal, len(ratios), dropped)
		verdicts = append(verdicts, verdict(fmt.Sprintf("%s ratio %.2f (median) ≥ %.2f", t.name, median(ratios), t.goal), median(ratios) >= t.goal))
		if lp, gp := medianDur(p99["limit"]), medianDur(p99[t.name]); lp == 0 || gp == 0 {
			verdicts = append(verdicts, t.name+" p99: not measured (every run dropped)")
		} else {
			verdicts = append(verdicts, verdict(fmt.Sprintf("%s p99 %s ≤ 2 × limit's %s at %d connections", t.name, gp, lp, *p99Conns), gp <= 2*lp))
		}
		if t.name == "SOAP 1.1" && len(nodeRPS) > 0 {
			n := median(nodeRPS)
			fmt.Printf("%-9s %10s %12.0f\n", "node-soap", fmt.Sprintf("%.2f", n/median(limits)), n)
			verdicts = append(verdicts, verdict(fmt.Sprintf("SOAP %.1f × node-soap's requests/s ≥ 4", median(rps)/n), median(rps) >= 4*n))
		}
	}
	verdicts = append(verdicts, verdict(fmt.Sprintf("peak RSS at %d connections %.1f MiB < 64 MiB", *conns, float64(rss)/1024), rss > 0 && rss < 64<<10))
	fmt.Println()
	for _, v := range verdicts {
		fmt.Println(v)
	}
	return nil
}

func verdict(s string, ok bool) string {
	if ok {
		return "met:     " + s
	}
	return "NOT met: " + s
}

func printRow(round any, name string, r result) {
	note := ""
	if !r.ok() {
		note = "dropped: the server did not have its core"
	}
	fmt.Printf("%-6v %-9s %12.0f %10.1f %5.0f%% %5.1f%%  %s\n", round, name, r.rps, r.cpuUS, 100*r.busy, 100*r.waiting, note)
}

func command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Stderr = os.Stderr
	return cmd
}

// goAllocs runs the gateway's request benchmarks and returns allocs/op by name.
func goAllocs() (map[string]string, error) {
	out, err := command("go", "test", "-run", "^$", "-bench", "^Benchmark(Baseline|JSON|SOAP11|SOAP12)$",
		"-benchmem", "-benchtime", "20000x", "./gateway").Output()
	if err != nil {
		return nil, fmt.Errorf("go benchmarks: %w\n%s", err, out)
	}
	m := map[string]string{}
	for line := range strings.Lines(string(out)) {
		f := strings.Fields(line)
		if len(f) >= 8 && f[len(f)-1] == "allocs/op" {
			name := f[0]
			if i := strings.LastIndexByte(name, '-'); i > 0 { // the GOMAXPROCS suffix
				name = name[:i]
			}
			m[name] = f[len(f)-2]
		}
	}
	return m, nil
}

func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func waitReady(urls ...string) error {
	for _, u := range urls {
		deadline := time.Now().Add(15 * time.Second)
		for {
			resp, err := http.Get(u)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode < 500 {
					break
				}
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s did not come up", u)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return nil
}

var (
	reRPS     = regexp.MustCompile(`(?m)^Requests/sec:\s+([0-9.]+)`)
	reP99     = regexp.MustCompile(`(?m)^\s+99%\s+([0-9.]+)(us|ms|s)\b`)
	reSockErr = regexp.MustCompile(`(?m)^\s+Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)$`)
	reErrors  = regexp.MustCompile(`(?m)^\s+Non-2xx or 3xx responses`) // wrk counts statuses over 399 here
)

// load runs wrk against t and reads what the server spent meanwhile.
func load(tmp string, t *target, c int, d time.Duration) (result, error) {
	cmd := command("taskset", "-c", *wrkCPU, "wrk", "-t1", "-c"+strconv.Itoa(c), "-d"+d.String(), "--latency",
		"-s", filepath.Join(tmp, "post.lua"), t.url)
	cmd.Env = append(os.Environ(), "BODY="+filepath.Join(tmp, t.body), "CONTENT_TYPE="+t.contentType, "SOAPACTION="+t.soapAction)
	cpu0, wait0 := procCPU(t.proc.Pid)
	t0 := time.Now()
	out, err := cmd.Output()
	elapsed := time.Since(t0)
	cpu1, wait1 := procCPU(t.proc.Pid)
	if err != nil {
		return result{}, fmt.Errorf("wrk against %s: %w\n%s", t.url, err, out)
	}
	s := string(out)
	var timeouts int
	if reErrors.MatchString(s) {
		return result{}, fmt.Errorf("errors under load against %s:\n%s", t.url, s)
	}
	if m := reSockErr.FindStringSubmatch(s); m != nil {
		if m[1] != "0" || m[2] != "0" || m[3] != "0" {
			return result{}, fmt.Errorf("errors under load against %s:\n%s", t.url, s)
		}
		timeouts, _ = strconv.Atoi(m[4])
	}
	m := reRPS.FindStringSubmatch(s)
	if m == nil {
		return result{}, fmt.Errorf("no requests/s in wrk's output:\n%s", s)
	}
	rps, _ := strconv.ParseFloat(m[1], 64)
	r := result{rps: rps, timeouts: timeouts, busy: (cpu1 - cpu0).Seconds() / elapsed.Seconds(), waiting: (wait1 - wait0).Seconds() / elapsed.Seconds()}
	if n := rps * d.Seconds(); n > 0 {
		r.cpuUS = float64((cpu1 - cpu0).Microseconds()) / n
	}
	if m := reP99.FindStringSubmatch(s); m != nil {
		v, _ := strconv.ParseFloat(m[1], 64)
		unit := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second}[m[2]]
		r.p99 = time.Duration(v * float64(unit))
	}
	return r, nil
}

// procCPU returns the CPU time a process has used (utime+stime, in clock
// ticks of 10 ms: Linux's USER_HZ) and the time its threads spent
// runnable but waiting for a CPU (schedstat, in ns).
func procCPU(pid int) (cpu, wait time.Duration) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err == nil {
		// Fields after the command name, which is in parentheses.
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		cpu = time.Duration(ut+st) * 10 * time.Millisecond
	}
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	for _, t := range tasks {
		if b, err := os.ReadFile(t); err == nil {
			if f := strings.Fields(string(b)); len(f) >= 2 {
				ns, _ := strconv.ParseInt(f[1], 10, 64)
				wait += time.Duration(ns)
			}
		}
	}
	return cpu, wait
}

// vmHWM returns a process's peak resident set, in KiB.
func vmHWM(pid int) int {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return n
		}
	}
	return 0
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// nodeSoap serves the WSDL with node-soap (installing testdata/clients/node's
// pinned `soap` with npm ci when missing) and measures it like the gateway.
func nodeSoap(tmp string, start func(string, ...string) (*os.Process, error), loadFor func(*target, int, time.Duration) (result, error)) ([]float64, error) {
	dir := "testdata/clients/node"
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "soap")); errors.Is(err, os.ErrNotExist) {
		if err := command("npm", "ci", "--prefix", dir, "--no-audit", "--no-fund").Run(); err != nil {
			return nil, fmt.Errorf("npm ci in %s: %w", dir, err)
		}
	}
	abs, err := filepath.Abs(filepath.Join(dir, "node_modules"))
	if err != nil {
		return nil, err
	}
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		return nil, err
	}
	addr := freeAddr()
	_, port, _ := net.SplitHostPort(addr)
	os.Setenv("NODE_PATH", abs)
	p, err := start(nodeBin, "scripts/loadbench/nodesoap.js", "wsdl/HelloService.wsdl", port)
	if err != nil {
		return nil, err
	}
	if err := waitReady("http://" + addr + "/SayHello/?wsdl"); err != nil {
		return nil, err
	}
	t := &target{name: "node-soap", url: "http://" + addr + "/SayHello/", body: "soap", contentType: "text/xml; charset=utf-8", soapAction: `"sayHello"`, proc: p}
	if _, err := loadFor(t, *conns, time.Second); err != nil {
		return nil, err
	}
	var rps []float64
	for range *rounds {
		r, err := loadFor(t, *conns, *duration)
		if err != nil {
			return nil, err
		}
		printRow("-", t.name, r)
		rps = append(rps, r.rps)
	}
	return rps, nil
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// showDur prints a median, or "n/a" when every run was dropped.
func showDur(d time.Duration) string {
	if d == 0 {
		return "n/a"
	}
	return d.String()
}

func medianDur(ds []time.Duration) time.Duration {
	fs := make([]float64, len(ds))
	for i, d := range ds {
		fs[i] = float64(d)
	}
	return time.Duration(median(fs)).Round(10 * time.Microsecond)
}

// profileUnder writes a CPU profile of the gateway taken while wrk loads t.
func profileUnder(file, admin string, t *target, loadFor func(*target, int, time.Duration) (result, error)) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() {
		_, err := loadFor(t, *conns, *duration+2*time.Second)
		done <- err
	}()
	time.Sleep(time.Second)
	resp, err := http.Get(fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", admin, int(duration.Seconds())))
	if err == nil {
		var b bytes.Buffer
		_, err = b.ReadFrom(resp.Body)
		resp.Body.Close()
		if err == nil {
			err = os.WriteFile(file, b.Bytes(), 0o644)
		}
	}
	if lerr := <-done; err == nil {
		err = lerr
	}
	if err == nil {
		fmt.Printf("profile of %s under load: %s (go tool pprof -top %s %s)\n", t.name, file, *bin, file)
	}
	return err
}
