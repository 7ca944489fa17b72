package main_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hellogw/hellogw/config"
)

// TestMigrationExample plays README "Try a migration locally" with the
// real binary: two hellogw upstreams, the gateway on
// examples/migration.yaml (its upstreams' addresses replaced by the free
// ports the test got), `bin/hellogw migrate set 30`, curl and PHP callers,
// the new upstream stopped and rolled back, `bin/hellogw migrate resume`.
func TestMigrationExample(t *testing.T) {
	cfg, err := config.Load("examples/migration.yaml")
	require.NoError(t, err, "the example loads")
	require.NotNil(t, cfg.Migration)
	assert.Equal(t, "soap", cfg.Backend.Kind)
	assert.Equal(t, "json", cfg.Migration.To.Kind)
	assert.Equal(t, "json", cfg.Shadow.Kind)
	_, err = config.Load("examples/migration-new-upstream.yaml")
	require.NoError(t, err)

	newUpstreamConfig, err := filepath.Abs("examples/migration-new-upstream.yaml")
	require.NoError(t, err)
	current := startClientsGateway(t)
	next := startClientsGateway(t, "-config", newUpstreamConfig)
	example, err := os.ReadFile("examples/migration.yaml")
	require.NoError(t, err)
	gwConfig := strings.NewReplacer("http://127.0.0.1:9001", current.URL, "http://127.0.0.1:9002", next.URL).Replace(string(example))
	require.NotEqual(t, string(example), gwConfig)
	gw := startClientsGateway(t, "-config", writeConfig(t, "%s", gwConfig), "-store", filepath.Join(t.TempDir(), "migration.db"))

	migrate := func(args ...string) clientResult {
		t.Helper()
		res := runClientCommand(t, nil, append([]string{hellogwBinary(t), "migrate"}, append(args, "-admin-url", gw.AdminURL)...)...)
		require.Equal(t, 0, res.code, "%s", res)
		return res
	}
	// curl plays 20 callers; their greetings say which backend answered.
	callers := func() (greetings map[string]int, failed int) {
		t.Helper()
		greetings = map[string]int{}
		for i := 1; i <= 20; i++ {
			res := runClientCommand(t, nil, "curl", "-s", "-H", fmt.Sprintf("X-Forwarded-For: 198.51.100.%d", i),
				"-H", "Content-Type: application/json", "-d", `{"firstName":"Ada"}`, gw.URL+"/sayHello")
			require.Equal(t, 0, res.code, "%s", res)
			switch res.stdout {
			case `{"greeting":"Hello, Ada!"}`, `{"greeting":"Hi, Ada!"}`:
				greetings[res.stdout]++
			default:
				failed++
			}
		}
		return greetings, failed
	}

	res := migrate("set", "30")
	assert.Contains(t, res.stdout, "weight 30%, running")
	greetings, failed := callers()
	assert.Zero(t, failed)
	assert.Positive(t, greetings[`{"greeting":"Hello, Ada!"}`], "some callers stay on the current backend")
	assert.Positive(t, greetings[`{"greeting":"Hi, Ada!"}`], "some go to the new one")
	php := runClientCommand(t, nil, "php", "testdata/clients/sayhello.php", gw.URL+"/SayHello/", "Ada")
	require.Equal(t, 0, php.code, "%s", php)
	assert.Contains(t, []string{"Hello, Ada!\n", "Hi, Ada!\n"}, php.stdout)

	status, body := do(t, mustRequest(t, http.MethodGet, gw.AdminURL+"/admin/migration/dashboard"))
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, `<strong id="weight">30 %</strong>`)

	// The new upstream stops: its callers fail until the window rolls back.
	next.Stop()
	require.Eventually(t, func() bool {
		callers()
		return strings.Contains(migrate("status").stdout, "weight 0%, rolled back")
	}, 30*time.Second, 100*time.Millisecond, "the stopped upstream is rolled back")
	greetings, failed = callers()
	assert.Zero(t, failed, "after the rollback, the current backend answers everyone")
	assert.Equal(t, map[string]int{`{"greeting":"Hello, Ada!"}`: 20}, greetings)

	// Back up, on its port: resume restores the weight before the rollback.
	startClientsGateway(t, "-config", newUpstreamConfig, "-addr", strings.TrimPrefix(next.URL, "http://"))
	res = migrate("resume")
	assert.Contains(t, res.stdout, "weight 30%, running")
	greetings, failed = callers()
	assert.Zero(t, failed)
	assert.Positive(t, greetings[`{"greeting":"Hi, Ada!"}`])
}

func mustRequest(t *testing.T, method, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	require.NoError(t, err)
	return req
}
