package main_test

// Bridged calls with identity (SPEC "Legacy credentials", toward upstreams): each
// direction of the migration bridge with a credential on both sides.

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2/clientcredentials"
)

// TestBridgeIdentity: a JSON client with a token reaches PHP's SoapServer, which
// checks the gateway's WS-Security UsernameToken; a PHP SoapClient with a WS-Security
// UsernameToken reaches a JSON API that checks the token the gateway minted for the
// caller's client by introspecting it at the gateway, and a JSON client's own token
// is what that API sees of it.
func TestBridgeIdentity(t *testing.T) {
	requireClientTool(t, "php-cli", "php", "-r", "exit(0);")
	requireClientTool(t, "php-soap", "php", "-r", `exit(class_exists("SoapServer") ? 0 : 1);`)

	t.Run("JSONClientWithTokenToWSSEUpstream", func(t *testing.T) {
		t.Setenv("LEGACY_SOAP_PASSWORD", "legacy pw <&>")
		for _, typ := range []string{"digest", "text"} {
			t.Run(typ, func(t *testing.T) {
				legacy := startLegacySOAP(t, "", "HELLO_WSSE_USER=gateway", "HELLO_WSSE_PASSWORD=legacy pw <&>", "HELLO_WSSE_TYPE="+typ)
				gw := startClientsGateway(t, "-store", filepath.Join(t.TempDir(), "hellogw.db"), "-config", writeConfig(t, `
sayhello: {require_token: true}
clients:
  - {id: batch-job, secret: batch-secret, grant_types: [client_credentials], scopes: [hello]}
backend:
  kind: soap
  url: %q
  identity: {kind: wsse, username: gateway, password_env: LEGACY_SOAP_PASSWORD, password_type: %s}`, legacy, typ))
				token := clientToken(t, gw.URL, "batch-job", "batch-secret")
				status, body := postJSONAuth(t, gw.URL+"/sayHello", "Bearer "+token, `{"firstName":"Ada"}`)
				require.Equal(t, http.StatusOK, status, "%s", body)
				assert.Equal(t, "Hello, Ada!", body["greeting"])

				status, _ = postJSONAuth(t, gw.URL+"/sayHello", "", `{"firstName":"Ada"}`)
				assert.Equal(t, http.StatusUnauthorized, status, "the gateway still wants a token")
			})
		}
		t.Run("ErrWrongPassword", func(t *testing.T) {
			legacy := startLegacySOAP(t, "", "HELLO_WSSE_USER=gateway", "HELLO_WSSE_PASSWORD=legacy pw <&>", "HELLO_WSSE_TYPE=digest")
			gw := startClientsGateway(t, "-store", filepath.Join(t.TempDir(), "hellogw.db"), "-config", writeConfig(t, `
backend:
  kind: soap
  url: %q
  identity: {kind: wsse, username: gateway, password: not-it, password_type: digest}`, legacy))
			status, body := postJSONAuth(t, gw.URL+"/sayHello", "", `{"firstName":"Ada"}`)
			assert.Equal(t, http.StatusBadGateway, status, "%s", body)
			assert.Contains(t, body["detail"], "FailedAuthentication", "the upstream refused the token")
		})
	})

	t.Run("SOAPClientWithWSSEToJSONUpstream", func(t *testing.T) {
		api := startIntrospectingAPI(t)
		gw := startClientsGateway(t, "-store", filepath.Join(t.TempDir(), "hellogw.db"), "-config", writeConfig(t, `
sayhello: {require_token: true}
clients:
  - {id: legacy-app, secret: legacy-secret, grant_types: [client_credentials], scopes: [hello], legacy: {wsse: digest}}
  - {id: batch-job, secret: batch-secret, grant_types: [client_credentials], scopes: [hello]}
  - {id: orders-api, secret: orders-secret, grant_types: [client_credentials], introspect_all: true}
backend:
  kind: json
  url: %q
  identity: {kind: bearer}`, api.URL))
		api.setGateway(gw.URL, "orders-api", "orders-secret")
		for range 2 {
			res := runClientCommand(t, nil, "php", "testdata/clients/wsse.php", gw.URL+"/SayHello/", "Ada", "legacy-app", "legacy-secret", "digest")
			require.Equal(t, 0, res.code, "%s", res)
			assert.Equal(t, "Hello, Ada! (client legacy-app, scope hello)\n", res.stdout, "the upstream saw a token of the caller's client")
		}
		assert.Len(t, api.tokensSeen(), 1, "the minted token is cached")

		res := runClientCommand(t, nil, "php", "testdata/clients/wsse.php", gw.URL+"/SayHello/", "Ada", "legacy-app", "wrong-secret", "digest")
		assert.Equal(t, 1, res.code, "%s", res)
		assert.Contains(t, res.stdout, "FailedAuthentication", "%s", res)
		assert.Len(t, api.tokensSeen(), 1, "a refused caller never reaches the upstream")

		// A caller with a token of its own has that token presented, never a
		// minted one.
		token := clientToken(t, gw.URL, "batch-job", "batch-secret")
		status, body := postJSONAuth(t, gw.URL+"/sayHello", "Bearer "+token, `{"firstName":"Ada"}`)
		require.Equal(t, http.StatusOK, status, "%s", body)
		assert.Equal(t, "Hello, Ada! (client batch-job, scope hello)", body["greeting"])
		assert.True(t, api.tokensSeen()[token], "the upstream saw the caller's own token")
		assert.Len(t, api.tokensSeen(), 2)
	})
	t.Run("SOAPClientToJSONUpstreamWithMintedToken", func(t *testing.T) {
		api := startIntrospectingAPI(t)
		gw := startClientsGateway(t, "-store", filepath.Join(t.TempDir(), "hellogw.db"), "-config", writeConfig(t, `
clients:
  - {id: gateway-client, secret: gateway-secret, grant_types: [client_credentials], scopes: [hello]}
  - {id: orders-api, secret: orders-secret, grant_types: [client_credentials], introspect_all: true}
backend:
  kind: json
  url: %q
  identity: {kind: bearer, mint_for: gateway-client}`, api.URL))
		api.setGateway(gw.URL, "orders-api", "orders-secret")
		for range 2 {
			res := runClientCommand(t, nil, "php", "testdata/clients/sayhello.php", gw.URL+"/SayHello/", "Ada", "wsdl")
			require.Equal(t, 0, res.code, "%s", res)
			assert.Equal(t, "Hello, Ada! (client gateway-client, scope hello)\n", res.stdout, "%s", res)
		}
		assert.Len(t, api.tokensSeen(), 1, "the minted token is cached")
	})
}

// TestMintedTokenScope: a token minted for a legacy caller's client carries
// the scope sayHello needs and nothing more (RFC 6819 §5.1.5.1), even for a
// client that may also have admin: the upstream that receives it cannot call
// the gateway's operator routes with it.
func TestMintedTokenScope(t *testing.T) {
	api := startIntrospectingAPI(t)
	gw := startClientsGateway(t, "-store", filepath.Join(t.TempDir(), "hellogw.db"), "-config", writeConfig(t, `
sayhello: {require_token: true}
clients:
  - {id: legacy-app, secret: legacy-secret, grant_types: [client_credentials], scopes: [hello, admin], legacy: {basic: true}}
  - {id: orders-api, secret: orders-secret, grant_types: [client_credentials], introspect_all: true}
backend:
  kind: json
  url: %q
  identity: {kind: bearer}`, api.URL))
	api.setGateway(gw.URL, "orders-api", "orders-secret")
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("legacy-app:legacy-secret"))
	status, body := postJSONAuth(t, gw.URL+"/sayHello", basic, `{"firstName":"Ada"}`)
	require.Equal(t, http.StatusOK, status, "%s", body)
	assert.Equal(t, "Hello, Ada! (client legacy-app, scope hello)", body["greeting"], "introspected with scope hello only")

	seen := api.tokensSeen()
	require.Len(t, seen, 1)
	for token := range seen {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, gw.URL+"/metrics", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
		assert.Equal(t, http.StatusForbidden, resp.StatusCode, "the minted token is not an admin token")
	}
}

// clientToken gets an access token with the client credentials grant.
func clientToken(t *testing.T, base, id, secret string) string {
	t.Helper()
	tok, err := (&clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: base + "/odfksdlfksld345345fdgdfg3453"}).Token(t.Context())
	require.NoError(t, err)
	return tok.AccessToken
}

// postJSONAuth posts body to target with the Authorization header (none when
// empty) and returns the status and the JSON answer's string members.
func postJSONAuth(t *testing.T, target, auth, body string) (int, map[string]string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, target, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var m map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&m))
	out := map[string]string{}
	for k, v := range m {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	return resp.StatusCode, out
}

// introspectingAPI is a JSON sayHello API that accepts a call only with a bearer
// token the gateway says is active with the hello scope (RFC 7662), and names the
// token's client and scope in its greeting.
type introspectingAPI struct {
	*httptest.Server
	mu                  sync.Mutex
	gateway, id, secret string
	seen                map[string]bool
}

func startIntrospectingAPI(t *testing.T) *introspectingAPI {
	t.Helper()
	api := &introspectingAPI{seen: map[string]bool{}}
	api.Server = httptest.NewServer(http.HandlerFunc(api.sayHello))
	t.Cleanup(api.Close)
	return api
}

func (a *introspectingAPI) setGateway(base, id, secret string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.gateway, a.id, a.secret = base, id, secret
}

func (a *introspectingAPI) tokensSeen() map[string]bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.seen
}

func (a *introspectingAPI) sayHello(w http.ResponseWriter, r *http.Request) {
	var in struct {
		FirstName string `json:"firstName"`
	}
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if r.URL.Path != "/sayHello" || json.NewDecoder(r.Body).Decode(&in) != nil || !strings.EqualFold(scheme, "Bearer") {
		http.Error(w, "no bearer token", http.StatusUnauthorized)
		return
	}
	a.mu.Lock()
	a.seen[token] = true
	gateway, id, secret := a.gateway, a.id, a.secret
	a.mu.Unlock()
	req, _ := http.NewRequestWithContext(r.Context(), http.MethodPost, gateway+"/oauth/introspect", strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	var info struct {
		Active   bool   `json:"active"`
		ClientID string `json:"client_id"`
		Scope    string `json:"scope"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&info) != nil || !info.Active || !strings.Contains(" "+info.Scope+" ", " hello ") {
		http.Error(w, "token not active with scope hello", http.StatusUnauthorized)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"greeting": "Hello, " + in.FirstName + "! (client " + info.ClientID + ", scope " + info.Scope + ")"})
}
