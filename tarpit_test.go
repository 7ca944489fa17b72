package main_test

import (
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTarPitPastStoreDeadline: 20 wrong secrets for one client at once, each
// from its own address (behind a trusted proxy), go past the tar pit's free
// attempts; the later slots lie beyond the 5 s a request has for the store.
// Those are answered 429 with Retry-After at once (RFC 6585 §4), never
// waited for until the request's deadline and then answered as a store
// failure (500 server_error, an ERROR log).
func TestTarPitPastStoreDeadline(t *testing.T) {
	gw := startClientsGateway(t, "-store", filepath.Join(t.TempDir(), "hellogw.db"), "-config", writeConfig(t, `
trusted_proxies: [127.0.0.1/32]
clients:
  - {id: texter, secret: texter-secret, grant_types: [client_credentials], scopes: [hello]}`))
	const n = 20
	statuses := make([]int, n)
	retryAfter := make([]string, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range statuses {
		wg.Go(func() {
			<-start
			req, err := http.NewRequest(http.MethodPost, gw.URL+"/odfksdlfksld345345fdgdfg3453", strings.NewReader("grant_type=client_credentials"))
			if err != nil {
				t.Error(err)
				return
			}
			req.SetBasicAuth("texter", "wrong")
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Forwarded-For", "10.2.0."+strconv.Itoa(i+1))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			_ = resp.Body.Close()
			statuses[i], retryAfter[i] = resp.StatusCode, resp.Header.Get("Retry-After")
		})
	}
	close(start)
	wg.Wait()
	count := map[int]int{}
	for i, s := range statuses {
		count[s]++
		if s == http.StatusTooManyRequests {
			assert.NotEmpty(t, retryAfter[i], "a 429 says when to retry")
		}
	}
	assert.Equal(t, n, count[http.StatusUnauthorized]+count[http.StatusTooManyRequests], "only 401 and 429: %v", count)
	assert.Positive(t, count[http.StatusTooManyRequests], "the slots past the deadline are refused: %v", count)
	require.NotContains(t, gw.logs(), `"level":"ERROR"`)
}
