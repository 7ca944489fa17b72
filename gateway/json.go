package gateway

import (
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// sayHelloRequest and the response below are the reference's
// SayHelloRequest and SayHelloResponse bodies.
type sayHelloRequest struct {
	FirstName *string `json:"firstName"`
}

// handleJSON serves sayHello as JSON: {"firstName"} in, {"greeting"} out,
// RFC 9457 problems for errors.
//
// It decodes with go-json-experiment/json (the encoding/json/v2 design)
// rather than encoding/json, which silently turns invalid UTF-8 and lone
// surrogate escapes into U+FFFD and keeps the last of duplicate names:
// v2 rejects all three, so a name cannot change on its way in.
func (g *Gateway) handleJSON(c *gin.Context) {
	noteWire(c, "json")
	if ct := c.ContentType(); ct != "application/json" && !strings.HasSuffix(ct, "+json") {
		writeProblem(c, errorf(KindUnsupportedType, "Content-Type %q is not supported; send application/json", ct))
		return
	}
	caller := g.authenticateHeaders(c, false)
	if caller.err != nil {
		writeProblem(c, caller.err)
		return
	}
	body, err := readBody(c.Writer, c.Request, g.maxBody)
	if err != nil {
		writeProblem(c, asError(err))
		return
	}
	var req sayHelloRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeProblem(c, errorf(KindInvalid, "the body is not a sayHello request: %v", err))
		return
	}
	greeting, herr := g.sayHello(c, caller, req.FirstName)
	if herr != nil {
		writeProblem(c, herr)
		return
	}
	out := make([]byte, 0, len(greeting)+16)
	out = append(out, `{"greeting":`...)
	out, _ = jsontext.AppendQuote(out, greeting) // greeting is valid UTF-8: checked by the core or the backend codec
	out = append(out, '}')
	c.Data(200, "application/json", out)
}
