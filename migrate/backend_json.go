package migrate

import (
	"context"
	"mime"
	"net/http"
	"strings"

	"github.com/go-json-experiment/json"

	"github.com/hellogw/hellogw/gateway"
	"github.com/hellogw/hellogw/gen"
	"github.com/hellogw/hellogw/wsdl"
)

// JSONBackend answers sayHello by calling an upstream JSON API the way the
// reference describes it: POST {url}/{operation} with {"firstName": …},
// answered by {"greeting": …}. It is the gateway's own JSON codec, seen
// from the client side.
type JSONBackend struct {
	up     *upstream
	op     string
	header http.Header
}

var _ gen.Hello_PortType = (*JSONBackend)(nil)

// sayHelloRequest and sayHelloResponse are the reference's
// SayHelloRequest and SayHelloResponse bodies, as the backend sends the one
// and an upstream answers the other.
type sayHelloRequest struct {
	FirstName *string `json:"firstName"`
}

type sayHelloResponse struct {
	Greeting *string `json:"greeting"`
}

// NewJSONBackend returns a backend that calls op on the JSON API at
// cfg.URL, at {cfg.URL}/{op.Name}.
func NewJSONBackend(op wsdl.Operation, cfg UpstreamConfig) (*JSONBackend, error) {
	cfg.URL = strings.TrimRight(cfg.URL, "/") + "/" + op.Name
	up, err := newUpstream(cfg)
	if err != nil {
		return nil, err
	}
	return &JSONBackend{up: up, op: op.Name, header: http.Header{
		"Content-Type": {"application/json"},
		"Accept":       {"application/json"},
	}}, nil
}

// SayHello implements gen.Hello_PortType.
func (b *JSONBackend) SayHello(firstName *string) (*string, error) {
	return b.SayHelloContext(context.Background(), firstName)
}

// SayHelloContext implements gen.Hello_PortType. It checks firstName with
// ValidateFirstName (KindInvalid) before it calls the upstream; upstream
// failures are KindBadGateway, KindTimeout or KindUnavailable.
func (b *JSONBackend) SayHelloContext(ctx context.Context, firstName *string) (*string, error) {
	if err := gateway.ValidateFirstName(firstName); err != nil {
		return nil, err
	}
	body, err := json.Marshal(sayHelloRequest{FirstName: firstName})
	if err != nil { // a valid name always marshals
		return nil, gateway.Errorf(gateway.KindInternal, "encoding the upstream request: %v", err)
	}
	return b.up.call(ctx, b.header, body, b.decode)
}

// decode reads a 200 answer with a JSON body holding a string greeting.
// Unknown members are ignored, as the gateway's own JSON codec does; the
// decoder refuses invalid UTF-8 and duplicate names, and gateway.CheckText any
// character XML 1.0 cannot carry, so the greeting goes out unchanged on
// either wire format in front.
func (b *JSONBackend) decode(status int, contentType string, body []byte) (string, *gateway.Error) {
	if status != http.StatusOK {
		return "", b.up.badAnswer("HTTP %d", status)
	}
	media, _, _ := mime.ParseMediaType(contentType)
	if media != "application/json" && !strings.HasSuffix(media, "+json") {
		return "", b.up.badAnswer("HTTP 200 with Content-Type %q, not JSON", contentType)
	}
	var resp sayHelloResponse
	if err := json.Unmarshal(body, &resp); err != nil {
		return "", b.up.badAnswer("HTTP 200 with a body that is not a %s response", b.op)
	}
	if resp.Greeting == nil {
		return "", b.up.badAnswer("HTTP 200 without a greeting")
	}
	if err := gateway.CheckText(*resp.Greeting); err != nil {
		return "", b.up.badAnswer("a greeting that %s", err.Message)
	}
	return *resp.Greeting, nil
}
