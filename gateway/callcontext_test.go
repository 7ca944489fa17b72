package gateway_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/hellogw/hellogw/gateway"
)

func TestAuthorization(t *testing.T) {
	assert.Empty(t, gateway.AuthorizationFrom(t.Context()))
	assert.Equal(t, "Bearer x", gateway.AuthorizationFrom(gateway.WithAuthorization(t.Context(), "Bearer x")))
}
