package gateway_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/hellogw/hellogw/gateway"
)

// TestAuthorization: the Authorization header joins the call's other
// facts, in the one Call value.
func TestAuthorization(t *testing.T) {
	assert.Empty(t, gateway.AuthorizationFrom(t.Context()))
	ctx := gateway.WithCall(t.Context(), gateway.Call{RequestID: "r1", Wire: "json"})
	ctx = gateway.WithAuthorization(ctx, "Bearer x")
	assert.Equal(t, "Bearer x", gateway.AuthorizationFrom(ctx))
	call, ok := gateway.CallFrom(ctx)
	assert.True(t, ok)
	assert.Equal(t, []string{"r1", "json"}, []string{call.RequestID, call.Wire}, "the call's other facts are kept")
}
