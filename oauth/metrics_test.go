package oauth_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// counterValue returns the value of the counter name with the given labels
// in e's registry, 0 if there is none.
func counterValue(tb testing.TB, e *env, name string, labels ...string) float64 {
	tb.Helper()
	families, err := e.reg.Gather()
	require.NoError(tb, err)
	want := map[string]string{}
	for i := 0; i+1 < len(labels); i += 2 {
		want[labels[i]] = labels[i+1]
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	next:
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if want[l.GetName()] != l.GetValue() {
					continue next
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

// TestGrantMetrics counts grants by type and outcome.
func TestGrantMetrics(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.tokens(t, e.newGrant(t, "hello"))
	resp, _ := e.do(t, tokenRequest{basic: demoBasic, form: formOf("grant_type", "refresh_token", "refresh_token", tok.RefreshToken)})
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp, _ = e.do(t, tokenRequest{basic: demoBasic, form: formOf("grant_type", "refresh_token", "refresh_token", "nope")})
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	resp, _ = e.do(t, tokenRequest{basic: demoID + ":bad", form: formOf("grant_type", "authorization_code", "code", "c")})
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	for _, tt := range []struct {
		labels []string
		want   float64
	}{
		{[]string{"grant_type", "authorization_code", "outcome", "success"}, 1},
		{[]string{"grant_type", "refresh_token", "outcome", "success"}, 1},
		{[]string{"grant_type", "refresh_token", "outcome", "invalid_grant"}, 1},
		{[]string{"grant_type", "authorization_code", "outcome", "invalid_client"}, 1},
	} {
		assert.Equal(t, tt.want, counterValue(t, e, "hellogw_oauth_grants_total", tt.labels...), tt.labels)
	}
	assert.Equal(t, 1.0, counterValue(t, e, "hellogw_oauth_client_auth_failures_total", "endpoint", "token", "reason", "bad_secret"))
}
