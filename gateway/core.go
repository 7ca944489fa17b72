package gateway

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/hellogw/hellogw/gen"
)

// DefaultTemplate is the greeting template when the config gives none.
const DefaultTemplate = "Hello, {firstName}!"

// Placeholder is where the first name goes in a greeting template.
const Placeholder = "{firstName}"

// MaxFirstName is the longest first name accepted, in characters.
const MaxFirstName = 1024

// Core is the one sayHello implementation: every wire format in front, and
// every backend that answers locally, ends here.
type Core struct {
	pieces []string // the template split at each Placeholder
	fixed  int      // bytes of the template outside the placeholders
}

// The generated port type is the contract: if the WSDL changes, this fails
// to compile until the core follows.
var _ gen.Hello_PortType = (*Core)(nil)

// NewCore returns a core that greets with template, in which every
// "{firstName}" is replaced by the caller's first name.
func NewCore(template string) (*Core, error) {
	if err := CheckText(template); err != nil {
		return nil, Errorf(KindInvalid, "greeting template %s", err.Message)
	}
	pieces := strings.Split(template, Placeholder)
	return &Core{pieces: pieces, fixed: len(template) - (len(pieces)-1)*len(Placeholder)}, nil
}

// SayHello implements gen.Hello_PortType.
func (c *Core) SayHello(firstName *string) (*string, error) {
	return c.SayHelloContext(context.Background(), firstName)
}

// SayHelloContext implements gen.Hello_PortType. It returns an *Error of
// KindInvalid when firstName breaks the rules of ValidateFirstName.
func (c *Core) SayHelloContext(_ context.Context, firstName *string) (*string, error) {
	g, err := c.sayHello(firstName)
	if err != nil {
		return nil, err
	}
	return &g, nil
}

// sayHello is SayHelloContext for the gateway's own codecs: no context,
// no pointer to allocate, and the *Error as such.
func (c *Core) sayHello(firstName *string) (string, *Error) {
	if err := ValidateFirstName(firstName); err != nil {
		return "", err
	}
	return c.greet(*firstName), nil
}

func (c *Core) greet(name string) string {
	var b strings.Builder
	b.Grow(c.fixed + (len(c.pieces)-1)*len(name))
	for i, p := range c.pieces {
		if i > 0 {
			b.WriteString(name)
		}
		b.WriteString(p)
	}
	return b.String()
}

// ValidateFirstName applies the rules every wire format shares: firstName
// is present, 1 to MaxFirstName characters of valid UTF-8, and holds only
// characters that XML 1.0 can carry. The *Error it returns never quotes the
// name itself.
func ValidateFirstName(firstName *string) *Error {
	if firstName == nil {
		return Errorf(KindInvalid, "firstName is required")
	}
	name := *firstName
	if name == "" {
		return Errorf(KindInvalid, "firstName must not be empty")
	}
	if err := CheckText(name); err != nil {
		return Errorf(KindInvalid, "firstName %s", err.Message)
	}
	if n := utf8.RuneCountInString(name); n > MaxFirstName {
		return Errorf(KindInvalid, "firstName is %d characters long; the limit is %d", n, MaxFirstName)
	}
	return nil
}

// CheckText reports text that is not valid UTF-8 or holds a character
// outside XML 1.0's Char production
// (https://www.w3.org/TR/xml/#NT-Char). The message is a phrase to follow
// what was checked ("firstName is not valid UTF-8 …"). Backends check an
// upstream's greeting with it, so that it goes out unchanged on either
// wire format.
func CheckText(s string) *Error {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return Errorf(KindInvalid, "is not valid UTF-8 (bad byte at offset %d)", i)
			}
		}
		if !isXMLChar(r) {
			return Errorf(KindInvalid, "holds U+%04X at offset %d, a character XML 1.0 cannot carry", r, i)
		}
	}
	return nil
}

func isXMLChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}
