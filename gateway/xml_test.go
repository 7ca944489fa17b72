package gateway_test

import (
	"encoding/xml"
	"io"
)

// xmlEscape escapes text for an element's content, as a client would.
// Carriage returns and tabs become references so the parser keeps them.
func xmlEscape(w io.Writer, s string) error { return xml.EscapeText(w, []byte(s)) }
