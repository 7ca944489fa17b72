package main_test

// End-to-end tests of the migration features (SPEC "Migration"): hellogw bridging to
// real upstream processes — a second hellogw as the JSON API, PHP's SoapServer as the
// legacy SOAP HelloService — and comparing a shadow backend in the background.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hellogw/hellogw/internal/gwtest"
	"github.com/hellogw/hellogw/internal/syncbuf"
)

// TestMigration runs each direction of the bridge, the shadow cases and the upstream
// failures against real processes.
func TestMigration(t *testing.T) {
	requireClientTool(t, "php-cli", "php", "-r", "exit(0);")
	requireClientTool(t, "php-soap", "php", "-r", `exit(class_exists("SoapServer") ? 0 : 1);`)

	jsonAPI := startClientsGateway(t) // the new JSON API: a hellogw on its own core
	legacy := startLegacySOAP(t, "")  // the legacy HelloService: PHP's SoapServer

	t.Run("SOAPClientToJSONUpstream", func(t *testing.T) {
		gw := startClientsGateway(t, "-config", writeConfig(t, "backend: {kind: json, url: %q}", jsonAPI.URL))
		for _, mode := range []string{"wsdl", "nowsdl", "soap12"} {
			for _, n := range clientsTestNames {
				t.Run(mode+"/"+n.label, func(t *testing.T) {
					res := runClientCommand(t, nil, "php", "testdata/clients/sayhello.php", gw.URL+"/SayHello/", n.name, mode)
					require.Equal(t, 0, res.code, "%s", res)
					assert.Equal(t, "Hello, "+n.name+"!\n", res.stdout, "%s", res)
				})
			}
		}
		t.Run("RequestIDPassesThrough", func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, gw.URL+"/sayHello", strings.NewReader(`{"firstName":"Ada"}`))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Request-Id", "migration-req-1")
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, http.StatusOK, resp.StatusCode)
			require.Eventually(t, func() bool { return strings.Contains(jsonAPI.logs(), `"request_id":"migration-req-1"`) },
				5*time.Second, 50*time.Millisecond, "the upstream must log the caller's request id")
		})
		t.Run("ErrEmptyNameIsStillAClientFault", func(t *testing.T) {
			res := runClientCommand(t, nil, "php", "testdata/clients/sayhello.php", gw.URL+"/SayHello/", "", "wsdl")
			assert.Equal(t, 1, res.code, "%s", res)
			assert.Regexp(t, `^FAULT ([\w.-]+:)?Client: \S`, res.stdout, "%s", res)
		})
	})

	t.Run("JSONClientToSOAPUpstream", func(t *testing.T) {
		gw := startClientsGateway(t, "-config", writeConfig(t, "backend: {kind: soap, url: %q}", legacy))
		for _, n := range clientsTestNames {
			t.Run(n.label, func(t *testing.T) {
				status, body := postJSON(t, gw.URL+"/sayHello", n.name)
				require.Equal(t, http.StatusOK, status, "%s", body)
				assert.Equal(t, "Hello, "+n.name+"!", body["greeting"])
			})
		}
		t.Run("SOAPClientToo", func(t *testing.T) {
			res := runClientCommand(t, nil, "php", "testdata/clients/sayhello.php", gw.URL+"/SayHello/", clientsTestName, "wsdl")
			require.Equal(t, 0, res.code, "%s", res)
			assert.Equal(t, "Hello, "+clientsTestName+"!\n", res.stdout, "%s", res)
		})
	})

	t.Run("Shadow", func(t *testing.T) {
		t.Run("Agreeing", func(t *testing.T) {
			// The migration itself: the legacy service answers, the new API is compared.
			gw := startClientsGateway(t, "-config", writeConfig(t,
				"backend: {kind: soap, url: %q}\nshadow: {kind: json, url: %q}", legacy, jsonAPI.URL))
			for _, n := range clientsTestNames {
				status, body := postJSON(t, gw.URL+"/sayHello", n.name)
				require.Equal(t, http.StatusOK, status, "%s", body)
				assert.Equal(t, "Hello, "+n.name+"!", body["greeting"])
			}
			waitMetric(t, gw.AdminURL, `hellogw_shadow_total{result="match"}`, 2)
			assert.Equal(t, 0.0, metric(t, gw.AdminURL, `hellogw_shadow_total{result="mismatch"}`))
			assert.Equal(t, 0.0, metric(t, gw.AdminURL, `hellogw_shadow_total{result="error"}`))
			resp, err := http.Get(gw.AdminURL + "/admin/shadow")
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, http.StatusNotFound, resp.StatusCode, "GET /admin/shadow is off unless configured")
		})

		t.Run("Disagreeing", func(t *testing.T) {
			hiAPI := startClientsGateway(t, "-config", writeConfig(t, `greeting: "Hi {firstName}."`))
			gw := startClientsGateway(t, "-config", writeConfig(t,
				"backend: {kind: soap, url: %q}\nshadow: {kind: json, url: %q, admin: true, sample_size: 3}", legacy, hiAPI.URL))
			for range 4 {
				status, body := postJSON(t, gw.URL+"/sayHello", clientsTestName)
				require.Equal(t, http.StatusOK, status, "%s", body)
				assert.Equal(t, "Hello, "+clientsTestName+"!", body["greeting"], "the client gets the primary's answer")
			}
			waitMetric(t, gw.AdminURL, `hellogw_shadow_total{result="mismatch"}`, 4)

			var report struct {
				Results map[string]int
				Samples []struct{ Result, Primary, Secondary, FirstName string }
			}
			raw := getBody(t, gw.AdminURL+"/admin/shadow")
			require.NoError(t, json.Unmarshal(raw, &report), "%s", raw)
			assert.Equal(t, 4, report.Results["mismatch"])
			require.Len(t, report.Samples, 3, "a bounded sample")
			assert.Equal(t, "mismatch", report.Samples[0].Result)
			assert.Equal(t, "Hello, {firstName}!", report.Samples[0].Primary)
			assert.Equal(t, "Hi {firstName}.", report.Samples[0].Secondary)
			assert.NotContains(t, string(raw), "O'Brien", "no name in the sample unless configured")

			require.Eventually(t, func() bool { return strings.Contains(gw.logs(), `"msg":"shadow mismatch"`) }, 5*time.Second, 50*time.Millisecond)
			assert.NotContains(t, gw.logs(), "O'Brien", "no name in the logs unless configured")
			assert.NotContains(t, gw.logs(), `O\u0027Brien`, "no name in the logs unless configured")
		})

		t.Run("Slow", func(t *testing.T) {
			slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				time.Sleep(time.Second)
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, `{"greeting":"Hello, Ada!"}`)
			}))
			t.Cleanup(slow.Close)
			gw := startClientsGateway(t, "-config", writeConfig(t,
				"shadow: {kind: json, url: %q, timeout: 5s, max_in_flight: 4}", slow.URL))
			var worst time.Duration
			for range 8 {
				start := time.Now()
				status, body := postJSON(t, gw.URL+"/sayHello", "Ada")
				worst = max(worst, time.Since(start))
				require.Equal(t, http.StatusOK, status, "%s", body)
				assert.Equal(t, "Hello, Ada!", body["greeting"])
			}
			assert.Less(t, worst, 500*time.Millisecond, "a shadow that takes 1s must not delay the client")
			waitMetric(t, gw.AdminURL, `hellogw_shadow_total{result="match"}`, 4)
			assert.Equal(t, 4.0, metric(t, gw.AdminURL, `hellogw_shadow_dropped_total`), "past max_in_flight requests are dropped, not queued")
		})

		t.Run("Dead", func(t *testing.T) {
			gw := startClientsGateway(t, "-config", writeConfig(t, "shadow: {kind: json, url: %q}", gwtest.ClosedURL(t)))
			for _, n := range clientsTestNames {
				status, body := postJSON(t, gw.URL+"/sayHello", n.name)
				require.Equal(t, http.StatusOK, status, "%s", body)
				assert.Equal(t, "Hello, "+n.name+"!", body["greeting"])
				res := runClientCommand(t, nil, "php", "testdata/clients/sayhello.php", gw.URL+"/SayHello/", n.name, "wsdl")
				require.Equal(t, 0, res.code, "%s", res)
				assert.Equal(t, "Hello, "+n.name+"!\n", res.stdout, "%s", res)
			}
			waitMetric(t, gw.AdminURL, `hellogw_shadow_total{result="error"}`, 4)
		})
	})

	t.Run("Faults", func(t *testing.T) {
		for _, tc := range []struct {
			desc   string
			config func(t *testing.T) (yaml, upstream string)
			status int
			detail string // after "upstream {upstream} "
		}{
			{"ErrUpstreamDown", func(t *testing.T) (string, string) {
				u := gwtest.ClosedURL(t)
				return fmt.Sprintf("backend: {kind: json, url: %q}", u), u
			}, http.StatusBadGateway, "cannot be reached"},
			{"ErrUpstreamSlow", func(t *testing.T) (string, string) {
				slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					_, _ = io.Copy(io.Discard, r.Body)
					select {
					case <-r.Context().Done():
					case <-time.After(10 * time.Second):
					}
				}))
				t.Cleanup(slow.Close)
				return fmt.Sprintf("backend: {kind: json, url: %q, timeout: 300ms}", slow.URL), slow.URL
			}, http.StatusGatewayTimeout, "did not answer within 300ms"},
			{"ErrUpstreamGarbage", func(t *testing.T) (string, string) {
				junk := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "text/xml")
					_, _ = io.WriteString(w, "<html><body>It works!</body></html>")
				}))
				t.Cleanup(junk.Close)
				return fmt.Sprintf("backend: {kind: soap, url: %q}", junk.URL), junk.URL
			}, http.StatusBadGateway, "answered HTTP 200 with a body that is not a SOAP envelope"},
			{"ErrUpstreamFault", func(t *testing.T) (string, string) {
				u := startLegacySOAP(t, "the directory of names is down for maintenance")
				return fmt.Sprintf("backend: {kind: soap, url: %q}", u), strings.TrimSuffix(u, "/")
			}, http.StatusBadGateway, "answered a SOAP Fault (SOAP-ENV:Server)"},
		} {
			t.Run(tc.desc, func(t *testing.T) {
				yaml, upstream := tc.config(t)
				gw := startClientsGateway(t, "-config", writeConfig(t, "%s", yaml))
				want := "upstream " + upstream + " " + tc.detail

				start := time.Now()
				status, body := postJSON(t, gw.URL+"/sayHello", clientsTestName)
				assert.Less(t, time.Since(start), 3*time.Second, "never a hang")
				require.Equal(t, tc.status, status, "%s", body)
				assert.True(t, strings.HasPrefix(body["detail"], want), "detail %q, want it to start with %q", body["detail"], want)

				res := runClientCommand(t, nil, "php", "testdata/clients/sayhello.php", gw.URL+"/SayHello/", clientsTestName, "wsdl")
				assert.Equal(t, 1, res.code, "%s", res)
				assert.Regexp(t, `^FAULT ([\w.-]+:)?Server: `+regexp.QuoteMeta(want), res.stdout, "%s", res)
				assert.NotContains(t, gw.logs(), "O'Brien", "upstream errors never carry the name")
			})
		}

		t.Run("ErrBreakerOpen", func(t *testing.T) {
			down := gwtest.ClosedURL(t)
			gw := startClientsGateway(t, "-config", writeConfig(t, "backend: {kind: json, url: %q, breaker: {failures: 2, cooldown: 1m}}", down))
			for range 2 {
				status, body := postJSON(t, gw.URL+"/sayHello", "Ada")
				require.Equal(t, http.StatusBadGateway, status, "%s", body)
			}
			status, body := postJSON(t, gw.URL+"/sayHello", "Ada")
			require.Equal(t, http.StatusServiceUnavailable, status, "%s", body)
			assert.Contains(t, body["detail"], "upstream "+down+" is failing")
		})
	})
}

// writeConfig writes a config file from a format and returns its absolute path.
func writeConfig(t *testing.T, format string, args ...any) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hellogw.yaml")
	require.NoError(t, os.WriteFile(path, []byte(fmt.Sprintf(format, args...)+"\n"), 0o600))
	return path
}

// startLegacySOAP serves wsdl/HelloService.wsdl with PHP's SoapServer
// (testdata/migration/helloserver.php) on PHP's built-in web server and returns its
// endpoint. With fault set, every call answers a SOAP Fault with that text; env adds
// to its environment (HELLO_WSSE_*: see the script).
func startLegacySOAP(t *testing.T, fault string, env ...string) string {
	t.Helper()
	wsdlPath, err := filepath.Abs(filepath.Join("wsdl", "HelloService.wsdl"))
	require.NoError(t, err)
	script, err := filepath.Abs(filepath.Join("testdata", "migration", "helloserver.php"))
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())

	cmd := exec.Command("php", "-S", addr, script)
	cmd.Dir = t.TempDir()
	cmd.Env = append(append(os.Environ(), "HELLO_WSDL="+wsdlPath, "HELLO_FAULT="+fault), env...)
	var out syncbuf.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("php -S %s output:\n%s", addr, out.String())
		}
	})
	require.Eventually(t, func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	}, 10*time.Second, 50*time.Millisecond, "php -S did not listen on %s", addr)
	return "http://" + addr + "/"
}

// postJSON posts {"firstName": name} and returns the status and the decoded body.
func postJSON(t *testing.T, url, name string) (int, map[string]string) {
	t.Helper()
	req, err := json.Marshal(map[string]string{"firstName": name})
	require.NoError(t, err)
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Post(url, "application/json", bytes.NewReader(req))
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	body := map[string]string{}
	var generic map[string]any
	require.NoError(t, json.Unmarshal(raw, &generic), "%s", raw)
	for k, v := range generic {
		body[k] = fmt.Sprint(v)
	}
	return resp.StatusCode, body
}

func getBody(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return raw
}

// metric reads one series from GET /metrics; -1 when it is absent.
func metric(t *testing.T, base, series string) float64 {
	t.Helper()
	sc := bufio.NewScanner(bytes.NewReader(getBody(t, base+"/metrics")))
	re := regexp.MustCompile(`^` + regexp.QuoteMeta(series) + ` (\S+)$`)
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			v, err := strconv.ParseFloat(m[1], 64)
			require.NoError(t, err)
			return v
		}
	}
	return -1
}

// waitMetric waits for a series to reach want, as shadow results arrive in the background.
func waitMetric(t *testing.T, base, series string, want float64) {
	t.Helper()
	var got float64
	deadline := time.Now().Add(10 * time.Second)
	for got = metric(t, base, series); got != want && time.Now().Before(deadline); got = metric(t, base, series) {
		time.Sleep(50 * time.Millisecond)
	}
	require.Equal(t, want, got, "%s", series)
}
