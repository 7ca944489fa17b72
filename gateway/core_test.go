package gateway_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hellogw/hellogw/gateway"
)

func ptr(s string) *string { return &s }

func TestCoreGreets(t *testing.T) {
	for _, tc := range []struct {
		template, name, want string
	}{
		{gateway.DefaultTemplate, "Ada", "Hello, Ada!"},
		{gateway.DefaultTemplate, `O'Brien <&> "名前" 😀`, `Hello, O'Brien <&> "名前" 😀!`},
		{"{firstName}, {firstName}!", "Bo", "Bo, Bo!"},
		{"Welcome", "Ada", "Welcome"},
		{"Hi {firstName}", "\t line\r\n", "Hi \t line\r\n"},
	} {
		core, err := gateway.NewCore(tc.template)
		require.NoError(t, err)
		got, err := core.SayHello(ptr(tc.name))
		require.NoError(t, err)
		assert.Equal(t, tc.want, *got)
	}
}

func TestCoreRejects(t *testing.T) {
	core, err := gateway.NewCore(gateway.DefaultTemplate)
	require.NoError(t, err)
	for _, tc := range []struct {
		desc    string
		name    *string
		message string
	}{
		{"ErrRequired", nil, "firstName is required"},
		{"ErrEmpty", ptr(""), "firstName must not be empty"},
		{"ErrTooLong", ptr(strings.Repeat("é", gateway.MaxFirstName+1)), "1025 characters long; the limit is 1024"},
		{"ErrInvalidUTF8", ptr("Ad\xffa"), "not valid UTF-8 (bad byte at offset 2)"},
		{"ErrControl", ptr("A\x01"), "U+0001 at offset 1"},
		{"ErrNonCharacter", ptr("A\uFFFE"), "U+FFFE"},
		{"ErrNUL", ptr("\x00"), "U+0000"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			_, err := core.SayHello(tc.name)
			var e *gateway.Error
			require.True(t, errors.As(err, &e), "want *gateway.Error, got %v", err)
			assert.Equal(t, gateway.KindInvalid, e.Kind)
			assert.Contains(t, e.Message, tc.message)
		})
	}

	t.Run("OKAtLimit", func(t *testing.T) {
		_, err := core.SayHello(ptr(strings.Repeat("名", gateway.MaxFirstName)))
		assert.NoError(t, err)
	})
}

func TestNewCoreRejectsBadTemplate(t *testing.T) {
	_, err := gateway.NewCore("Hello \x02{firstName}")
	assert.ErrorContains(t, err, "greeting template holds U+0002")
}
