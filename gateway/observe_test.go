package gateway_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestResponseControllerThroughObserve: a handler behind observe, which
// wraps gin's writer, still reaches net/http's with http.ResponseController.
func TestResponseControllerThroughObserve(t *testing.T) {
	g := newGateway(t)
	var deadlineErr error
	g.Routes().GET("/rc", func(c *gin.Context) {
		deadlineErr = http.NewResponseController(c.Writer).SetWriteDeadline(time.Now().Add(time.Minute))
		c.String(http.StatusOK, "ok")
	})
	srv := httptest.NewServer(g)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/rc")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.NotEmpty(t, resp.Header.Get("X-Request-Id"))
	assert.NoError(t, deadlineErr)
}
