package oauth_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hellogw/hellogw/oauth"
)

// FuzzTokenEndpoint sends arbitrary bodies and Authorization headers to the
// token endpoint: the answer is always a 200 token or an RFC 6749 §5.2 JSON
// error with no-store, never a 500 or a panic.
func FuzzTokenEndpoint(f *testing.F) {
	e := newEnv(f, nil)
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(demoBasic))
	for _, seed := range []struct{ body, auth string }{
		{"grant_type=authorization_code&code=abc&redirect_uri=http%3A%2F%2F127.0.0.1%3A9999%2Fcallback", basic},
		{"grant_type=refresh_token&refresh_token=x&scope=hello", basic},
		{"grant_type=refresh_token&grant_type=refresh_token", basic},
		{"grant_type=authorization_code&code=%zz", basic},
		{"client_id=demo-app&client_secret=demo-secret&grant_type=password", ""},
		{"", "Basic !!!"},
		{"grant_type=authorization_code", "Bearer x"},
		{";;&&==", "Basic " + base64.StdEncoding.EncodeToString([]byte(":"))},
	} {
		f.Add(seed.body, seed.auth)
	}
	f.Fuzz(func(t *testing.T, body, auth string) {
		req := httptest.NewRequest(http.MethodPost, oauth.TokenPath, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		e.handler.ServeHTTP(rec, req)
		if rec.Header().Get("Cache-Control") != "no-store" {
			t.Errorf("Cache-Control %q", rec.Header().Get("Cache-Control"))
		}
		var m map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
			t.Fatalf("status %d, body not JSON: %q", rec.Code, rec.Body)
		}
		switch rec.Code {
		case http.StatusOK:
			if m["access_token"] == nil {
				t.Errorf("200 without access_token: %s", rec.Body)
			}
		case http.StatusBadRequest, http.StatusUnauthorized, http.StatusTooManyRequests:
			if code, _ := m["error"].(string); code == "" || code == "server_error" {
				t.Errorf("status %d: %s", rec.Code, rec.Body)
			}
		default:
			t.Errorf("status %d: %s", rec.Code, rec.Body)
		}
	})
}
