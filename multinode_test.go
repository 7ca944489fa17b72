package main_test

import (
	"crypto/rand"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

// The multi-node tests run two gateway processes on one PostgreSQL
// database, as a deployment behind a load balancer would: they share the
// store and the config file, session_key included.
const multiNodeConfig = oauthTestConfig + `
session_key: multi-node-test-session-key-0123456789
`

// postgresURL is the database make test starts; without it the test fails
// and says so, rather than passing without having run.
func postgresURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv("HELLOGW_TEST_POSTGRES_URL")
	if u == "" {
		t.Fatal("PostgreSQL tests did not run: set HELLOGW_TEST_POSTGRES_URL (make test starts a server and sets it; or eval \"$(scripts/postgres.sh start)\")")
	}
	return u
}

// startNodes starts n gateways on the PostgreSQL store with config.
func startNodes(t *testing.T, n int, config string) []*clientsGateway {
	t.Helper()
	dsn := postgresURL(t)
	cfg := filepath.Join(t.TempDir(), "hellogw.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(config), 0o600))
	nodes := make([]*clientsGateway, n)
	for i := range nodes {
		nodes[i] = startClientsGateway(t, "-config", cfg, "-store", dsn)
	}
	return nodes
}

func TestMultiNode(t *testing.T) {
	nodes := startNodes(t, 2, multiNodeConfig)
	a, b := nodes[0], nodes[1]
	ctx := t.Context()

	t.Run("CodeFromAIsRedeemedAtB", func(t *testing.T) {
		verifier := oauth2.GenerateVerifier()
		code := authorize(t, oauthConfig(a.URL).AuthCodeURL("st-42", oauth2.S256ChallengeOption(verifier)))
		tok, err := oauthConfig(b.URL).Exchange(ctx, code, oauth2.VerifierOption(verifier))
		require.NoError(t, err)
		assertSayHello(t, a.URL, tok.AccessToken, http.StatusOK)
		assertSayHello(t, b.URL, tok.AccessToken, http.StatusOK)

		// Rotated at B, the old refresh token is refused at A, and the
		// reuse revokes the chain on every node.
		stale := *tok
		stale.Expiry = time.Now().Add(-time.Minute)
		fresh, err := oauthConfig(b.URL).TokenSource(ctx, &stale).Token()
		require.NoError(t, err)
		_, err = oauthConfig(a.URL).TokenSource(ctx, &stale).Token()
		var rerr *oauth2.RetrieveError
		require.ErrorAs(t, err, &rerr)
		assert.Equal(t, "invalid_grant", rerr.ErrorCode)
		assertSayHello(t, b.URL, fresh.AccessToken, http.StatusUnauthorized)
		assertSayHello(t, a.URL, fresh.AccessToken, http.StatusUnauthorized)
	})

	t.Run("LoginAtAConsentAtB", func(t *testing.T) {
		// With a shared session_key, a login session started on one node
		// is good on the other: no sticky sessions needed.
		jar, err := cookiejar.New(nil)
		require.NoError(t, err)
		browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		authURL := oauthConfig(a.URL).AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
		page := fetch(t, browser, http.MethodGet, authURL, nil)
		login := hiddenFields(t, page)
		login.Set("username", "alice")
		login.Set("password", "alice-password")
		consent := fetch(t, browser, http.MethodPost, strings.Replace(formAction(t, authURL, page), a.URL, b.URL, 1), login)
		approve := hiddenFields(t, consent)
		approve.Set("decision", "allow")
		resp, err := browser.PostForm(b.URL+"/authorize", approve)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusSeeOther, resp.StatusCode)
		loc, err := url.Parse(resp.Header.Get("Location"))
		require.NoError(t, err)
		assert.NotEmpty(t, loc.Query().Get("code"))
	})

	t.Run("ConcurrentRedemptionAcrossNodes", func(t *testing.T) {
		for i := range 10 {
			verifier := oauth2.GenerateVerifier()
			code := authorize(t, oauthConfig(a.URL).AuthCodeURL("st-42", oauth2.S256ChallengeOption(verifier)))
			statuses := make([]int, 4)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for j := range statuses {
				node := nodes[j%2]
				wg.Go(func() {
					<-start
					statuses[j] = redeem(t, node.URL, code, verifier)
				})
			}
			close(start)
			wg.Wait()
			wins := 0
			for _, s := range statuses {
				switch s {
				case http.StatusOK:
					wins++
				case http.StatusBadRequest: // invalid_grant
				default:
					t.Errorf("round %d: status %d", i, s)
				}
			}
			assert.Equal(t, 1, wins, "round %d: exactly one redemption wins, got statuses %v", i, statuses)
		}
	})
}

// TestMultiNodeThrottle: 200 wrong client secrets sent at once, half to each
// of two nodes on one PostgreSQL, lead to exactly the budget of checks (10):
// the nodes count in the store, not each on its own. The session key is new
// for this run, so the counts of earlier runs (keyed under another key) do
// not matter.
func TestMultiNodeThrottle(t *testing.T) {
	nodes := startNodes(t, 2, oauthTestConfig+"\nsession_key: "+rand.Text()+rand.Text()+"\n")
	const n, budget = 200, 10
	statuses := make([]int, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range statuses {
		wg.Go(func() {
			<-start
			statuses[i] = introspectAs(t, nodes[i%2].URL, "demo-app", "wrong-"+strconv.Itoa(i))
		})
	}
	close(start)
	wg.Wait()
	count := map[int]int{}
	for _, s := range statuses {
		count[s]++
	}
	assert.Equal(t, map[int]int{http.StatusUnauthorized: budget, http.StatusTooManyRequests: n - budget}, count)
	for _, node := range nodes {
		assert.Equal(t, http.StatusTooManyRequests, introspectAs(t, node.URL, "demo-app", "demo-secret"), "the right secret, from the same address")
	}
}

// introspectAs posts an introspection request authenticated as id and
// secret, and returns the status.
func introspectAs(t *testing.T, base, id, secret string) int {
	return postForm(t, base+"/oauth/introspect", id, secret, "token=x")
}

// redeem posts an authorization_code grant and returns the status.
func redeem(t *testing.T, base, code, verifier string) int {
	form := url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {verifier},
		"redirect_uri": {"http://127.0.0.1:9999/callback"},
	}
	return postForm(t, base+"/odfksdlfksld345345fdgdfg3453", "demo-app", "demo-secret", form.Encode())
}

// postForm posts form to target with HTTP Basic client credentials and
// returns the status; it may run outside the test's goroutine.
func postForm(t *testing.T, target, id, secret, form string) int {
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(form))
	if err != nil {
		t.Error(err)
		return 0
	}
	req.SetBasicAuth(id, secret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestOutagePostgres stops PostgreSQL under two running nodes: requests
// fail fast with each protocol's error, /readyz turns 503, and when the
// database is back the same processes serve again with nothing lost. It
// needs HELLOGW_TEST_POSTGRES_CTL (scripts/postgres.sh), and make test runs
// it apart from the other tests, which an outage would disturb.
func TestOutagePostgres(t *testing.T) {
	ctl := os.Getenv("HELLOGW_TEST_POSTGRES_CTL")
	if ctl == "" {
		t.Fatal("the outage test did not run: set HELLOGW_TEST_POSTGRES_CTL to scripts/postgres.sh (make test does, in a run of its own)")
	}
	nodes := startNodes(t, 2, multiNodeConfig)
	ctx := t.Context()
	verifier := oauth2.GenerateVerifier()
	code := authorize(t, oauthConfig(nodes[0].URL).AuthCodeURL("st-42", oauth2.S256ChallengeOption(verifier)))
	tok, err := oauthConfig(nodes[1].URL).Exchange(ctx, code, oauth2.VerifierOption(verifier))
	require.NoError(t, err)

	postgresCtl(t, ctl, "stop")
	t.Cleanup(func() { postgresCtl(t, ctl, "start") }) // whatever happens below
	for _, n := range nodes {
		start := time.Now()
		resp, err := http.Get(n.URL + "/readyz")
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)

		assertOutageAnswers(t, n.URL, tok.AccessToken)
		assert.Less(t, time.Since(start), 5*time.Second, "requests fail fast during the outage")
	}

	postgresCtl(t, ctl, "start")
	for _, n := range nodes {
		require.Eventually(t, func() bool {
			resp, err := http.Get(n.URL + "/readyz")
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK
		}, 30*time.Second, 200*time.Millisecond, "/readyz recovers without a restart")
		assertSayHello(t, n.URL, tok.AccessToken, http.StatusOK) // issued before the outage, not lost
	}
	_, err = oauthConfig(nodes[0].URL).Exchange(ctx, code, oauth2.VerifierOption(verifier))
	assert.Error(t, err, "the code used before the outage is still used")
}

// assertOutageAnswers checks each protocol's error while the store is down:
// 503 problem+json, a Server fault, and an OAuth server_error.
func assertOutageAnswers(t *testing.T, base, token string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/sayHello", strings.NewReader(`{"firstName":"Ada"}`))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))

	req, err = http.NewRequest(http.MethodPost, base+"/SayHello/", strings.NewReader(`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><h:sayHello xmlns:h="urn:examples:helloservice"><firstName>Ada</firstName></h:sayHello></s:Body></s:Envelope>`))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "text/xml")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	assert.Contains(t, string(body), ":Server</faultcode>")

	assert.Equal(t, http.StatusInternalServerError, redeem(t, base, "any-code", oauth2.GenerateVerifier()), "token endpoint: server_error")
}

func postgresCtl(t *testing.T, ctl, verb string) {
	t.Helper()
	out, err := exec.Command(ctl, verb).CombinedOutput()
	require.NoError(t, err, "%s %s:\n%s", ctl, verb, out)
}
