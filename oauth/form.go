package oauth

import (
	"io"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/hellogw/hellogw/internal/reqlog"
)

// maxFormBytes bounds a token, revocation or introspection request body.
const maxFormBytes = 64 << 10

// parseForm reads an application/x-www-form-urlencoded body (RFC 6749 §3.2,
// RFC 7009 §2.1, RFC 7662 §2.1). RFC 6749 §3.1: "Request and response
// parameters MUST NOT be included more than once", so a repeated parameter
// among known is invalid_request; unknown parameters are ignored. A known
// parameter sent without a value is invalid_request too: §3.1 would have it
// treated as omitted, but an empty scope or code_verifier is far more likely
// a client bug than a request for the default, so it is reported.
func parseForm(c *gin.Context, known ...string) (url.Values, *RFC6749Error) {
	if c.ContentType() != "application/x-www-form-urlencoded" {
		return nil, ErrInvalidRequest.WithDescription("The request body must be application/x-www-form-urlencoded.")
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxFormBytes))
	if err != nil {
		return nil, ErrInvalidRequest.WithDescription("The request body could not be read or is too large.")
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, ErrInvalidRequest.WithDescription("The request body is not valid form encoding.")
	}
	for _, name := range known {
		switch v := form[name]; {
		case len(v) > 1:
			return nil, ErrInvalidRequest.WithDescription("The parameter " + name + " is included more than once.")
		case len(v) == 1 && v[0] == "":
			return nil, ErrInvalidRequest.WithDescription("The parameter " + name + " is empty.")
		}
	}
	return form, nil
}

// errorBody is the JSON error of RFC 6749 §5.2, with the error_uri the API
// reference shows.
type errorBody struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	ErrorURI         string `json:"error_uri"`
}

// noStore sets the caching headers of RFC 6749 §5.1 on every token endpoint answer.
func noStore(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.Header("Pragma", "no-cache")
}

// writeError answers with an RFC 6749 §5.2 error: 400, or 401 with
// WWW-Authenticate for invalid_client (RFC 6749 §5.2, RFC 7617 §2).
func writeError(c *gin.Context, e *RFC6749Error) {
	reqlog.NoteError(c, e.Code, e.Description) // the request's log line names the OAuth error
	noStore(c)
	if e.Status == http.StatusUnauthorized {
		c.Header("WWW-Authenticate", `Basic realm="hellogw"`)
	}
	c.JSON(e.Status, errorBody{Error: e.Code, ErrorDescription: e.Description, ErrorURI: "https://www.rfc-editor.org/rfc/rfc6749#section-5.2"})
}
