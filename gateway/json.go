package gateway

import (
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

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
	if ct := mediaType(headerValue(c.Request.Header, fieldContentType)); ct != "application/json" && !strings.HasSuffix(ct, "+json") {
		WriteProblem(c, Errorf(KindUnsupportedType, "this Content-Type is not supported; send application/json"))
		return
	}
	caller := g.authenticateHeaders(c, false)
	if caller.err != nil {
		WriteProblem(c, caller.err)
		return
	}
	buf := getBuf()
	defer putBuf(buf)
	body, err := readBody(c.Writer, c.Request, g.maxBody, buf)
	if err != nil {
		WriteProblem(c, AsError(err))
		return
	}
	firstName, perr := parseSayHello(body)
	if perr != nil {
		WriteProblem(c, perr)
		return
	}
	greeting, herr := g.sayHello(c, caller, "json", firstName)
	if herr != nil {
		WriteProblem(c, herr)
		return
	}
	buf.Reset() // the body is read: the name is a copy
	out := append(buf.AvailableBuffer(), `{"greeting":`...)
	out = appendJSONQuote(out, greeting)
	out = append(out, '}')
	writeData(c, http.StatusOK, ctJSON, out)
}

// parseSayHello reads a sayHello body: by jsonFirstName when it can, else
// by json/v2, whose request struct is then the only one made (the decoder
// takes its address, so it lives on the heap).
func parseSayHello(body []byte) (*string, *Error) {
	if name, ok := jsonFirstName(body); ok {
		return &name, nil
	}
	var req sayHelloRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, jsonError(body, err)
	}
	return req.FirstName, nil
}

// jsonError says what is wrong with a sayHello body in the API's words,
// never the JSON library's, and never quoting the body.
func jsonError(body []byte, err error) *Error {
	if !utf8.Valid(body) {
		return Errorf(KindInvalid, "the body is not valid UTF-8, which JSON must be (RFC 8259 §8.1)")
	}
	if serr, ok := errors.AsType[*json.SemanticError](err); ok {
		switch serr.JSONPointer {
		case "":
			return Errorf(KindInvalid, "the body must be a JSON object, as in {\"firstName\": \"Ada\"}")
		case "/firstName":
			return Errorf(KindInvalid, "firstName must be a string")
		}
	}
	if serr, ok := errors.AsType[*jsontext.SyntacticError](err); ok && errors.Is(serr.Err, jsontext.ErrDuplicateName) {
		// RFC 8259 §4 leaves duplicate names to the parser; taking either
		// one would let two readers see two names.
		return Errorf(KindInvalid, "the body names a member twice")
	}
	return Errorf(KindInvalid, "the body is not valid JSON")
}
