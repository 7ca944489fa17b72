package gateway_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hellogw/hellogw/gateway"
)

// verifierFunc is a TokenVerifier made of a function.
type verifierFunc func(ctx context.Context, token string) (gateway.Principal, error)

func (f verifierFunc) VerifyAccessToken(ctx context.Context, token string) (gateway.Principal, error) {
	return f(ctx, token)
}

// serviceFunc is a gen.Hello_PortType made of a function.
type serviceFunc func(ctx context.Context, firstName *string) (*string, error)

func (f serviceFunc) SayHello(firstName *string) (*string, error) {
	return f(context.Background(), firstName)
}

func (f serviceFunc) SayHelloContext(ctx context.Context, firstName *string) (*string, error) {
	return f(ctx, firstName)
}

// TestServiceSeesCall: with sayHello open, a backend sees the request id,
// the wire format and the caller's address, and no principal.
func TestServiceSeesCall(t *testing.T) {
	var seen []gateway.Call
	var auths []string
	g := newGateway(t, func(c *gateway.Config) {
		c.Service = serviceFunc(func(ctx context.Context, firstName *string) (*string, error) {
			call, ok := gateway.CallFrom(ctx)
			require.True(t, ok)
			seen = append(seen, call)
			auths = append(auths, gateway.AuthorizationFrom(ctx))
			return firstName, nil
		})
	})
	w := doFrom(g, "198.51.100.7:4000", "POST", "/sayHello", "application/json", `{"firstName":"Ada"}`, "X-Request-Id", "abc-123")
	require.Equal(t, 200, w.Code)
	s := doFrom(g, "198.51.100.8:4000", "POST", "/SayHello/", "text/xml; charset=utf-8", envelope11("Ada"), "X-Request-Id", "abc-124", "Authorization", "Bearer passed-on")
	require.Equal(t, 200, s.Code)
	require.Len(t, seen, 2)
	assert.Equal(t, gateway.Call{RequestID: "abc-123", Wire: "json", RemoteAddr: "198.51.100.7"}, seen[0])
	assert.Equal(t, []string{"", "Bearer passed-on"}, auths, "sayHello open: the caller's token travels to the backend")
	assert.Equal(t, []string{"abc-124", "soap11", "198.51.100.8"}, []string{seen[1].RequestID, seen[1].Wire, seen[1].RemoteAddr})
	assert.False(t, seen[1].Authenticated)
	assert.Zero(t, seen[1].Principal)

	_, ok := gateway.CallFrom(context.Background())
	assert.False(t, ok)
	assert.Empty(t, gateway.RequestIDFrom(context.Background()))
}

func TestServiceErrors(t *testing.T) {
	for _, tc := range []struct {
		err      error
		status   int
		soapCode string
		detail   string
	}{
		{&gateway.Error{Kind: gateway.KindBadGateway, Message: "upstream http://old answered HTTP 500"}, 502, "Server", "upstream http://old answered HTTP 500"},
		{&gateway.Error{Kind: gateway.KindTimeout, Message: "upstream http://old did not answer within 2s"}, 504, "Server", "upstream http://old did not answer within 2s"},
		{&gateway.Error{Kind: gateway.KindInvalid, Message: "firstName is required"}, 400, "Client", "firstName is required"},
		{errors.New("secret internal detail"), 500, "Server", "internal error"},
	} {
		g := newGateway(t, func(c *gateway.Config) {
			c.Service = serviceFunc(func(context.Context, *string) (*string, error) { return nil, tc.err })
		})
		w := do(g, "POST", "/sayHello", "application/json", strings.NewReader(`{"firstName":"Ada"}`))
		assert.Equal(t, tc.status, w.Code)
		assert.Equal(t, tc.detail, decodeProblem(t, w).Detail)

		s := do(g, "POST", "/SayHello/", "text/xml", strings.NewReader(envelope11("Ada")))
		assert.Equal(t, 500, s.Code)
		f := decodeFault(t, s)
		assert.Equal(t, tc.soapCode, f.code)
		assert.Equal(t, tc.detail, f.reason)
		assert.NotContains(t, s.Body.String()+w.Body.String(), "secret internal detail")
	}
}

// TestStoreTimeout: a token store that stops answering fails the request
// after StoreTimeout instead of hanging it, on the bearer check and on the
// routes added through Routes.
func TestStoreTimeout(t *testing.T) {
	hang := func(ctx context.Context) error {
		<-ctx.Done()
		return ctx.Err()
	}
	g, _, _ := protected(t, func(c *gateway.Config) {
		c.StoreTimeout = 50 * time.Millisecond
		c.Protection.Tokens = verifierFunc(func(ctx context.Context, _ string) (gateway.Principal, error) {
			return gateway.Principal{}, hang(ctx)
		})
	})
	g.Routes().GET("/store", func(c *gin.Context) {
		if err := hang(c.Request.Context()); err != nil {
			c.String(http.StatusServiceUnavailable, err.Error())
		}
	})

	start := time.Now()
	w := do(g, "POST", "/sayHello", "application/json", strings.NewReader(`{"firstName":"Ada"}`), "Authorization", "Bearer x")
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	w = do(g, "GET", "/store", "", nil)
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.Equal(t, "context deadline exceeded", w.Body.String())
	assert.Less(t, time.Since(start), 5*time.Second)
}
